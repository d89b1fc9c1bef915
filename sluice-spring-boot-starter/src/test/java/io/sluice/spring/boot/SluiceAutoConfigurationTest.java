package io.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.anthropic.client.AnthropicClient;
import com.anthropic.models.messages.MessageCreateParams;
import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.sluice.http.ClientClosedException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.Route;
import io.sluice.http.StreamingResponse;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.http.client.ClientHttpRequestFactoryBuilder;
import org.springframework.boot.http.client.JdkClientHttpRequestFactoryBuilder;
import org.springframework.boot.http.client.autoconfigure.HttpClientAutoConfiguration;
import org.springframework.boot.http.client.autoconfigure.imperative.ImperativeHttpClientAutoConfiguration;
import org.springframework.boot.http.client.autoconfigure.reactive.ReactiveHttpClientAutoConfiguration;
import org.springframework.boot.http.client.reactive.ClientHttpConnectorBuilder;
import org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The auto-configuration in real application contexts ({@link ApplicationContextRunner}): properties reach the
 * manager, customizers run, a manager of the user's own wins, Boot's RestClient and WebClient builders run over
 * Sluice unless a client is chosen by property, the SDK clients share the manager, and closing the context lets a
 * stream in flight finish before the manager closes.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SluiceAutoConfigurationTest {

    static final String KEY = "sk-test";
    static MockProvider mock;

    final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(SluiceAutoConfiguration.class))
            .withPropertyValues("sluice.pool.min-idle=0");

    @BeforeAll
    static void start() {
        mock = MockProvider.start(MockOptions.builder().requiredApiKey(KEY).build());
    }

    @AfterAll
    static void stop() {
        mock.close();
    }

    /** The mock's certificate as an inline PEM SSL bundle named "mock", used by sluice.tls.bundle. */
    static String[] trustTheMock() {
        return new String[] { "spring.ssl.bundle.pem.mock.truststore.certificate=" + mock.certificatePem(),
                "sluice.tls.bundle=mock" };
    }

    static Route mockRoute() {
        return Route.of(mock.httpsUri());
    }

    @Test
    void propertiesReachTheManager() {
        runner.withPropertyValues("sluice.pool.max-connections=7", "sluice.pool.connection-timeout=3s",
                "sluice.retries.enabled=false", "sluice.http2.max-concurrent-streams=50")
                .run(context -> {
                    ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                    PoolConfig config = manager.pool(new Route("https", "example.invalid", 443)).config();
                    assertThat(config.maxConnections()).isEqualTo(7);
                    assertThat(config.minIdle()).isZero();
                    assertThat(config.connectionTimeout()).isEqualTo(Duration.ofSeconds(3));
                    assertThat(manager.statusRetryPolicy().enabled()).isFalse();
                    SluiceProperties p = context.getBean(SluiceProperties.class);
                    assertThat(p.getHttp2().getMaxConcurrentStreams()).isEqualTo(50);
                });
    }

    @Test
    void thePropertyDefaultsAreSluicesOwn() {
        SluiceProperties p = new SluiceProperties();
        PoolConfig d = PoolConfig.defaults();
        assertThat(p.getPool().getMaxConnections()).isEqualTo(d.maxConnections());
        assertThat(p.getPool().getMinIdle()).isEqualTo(d.minIdle());
        assertThat(p.getPool().getMaxLifetime()).isEqualTo(d.maxLifetime());
        assertThat(p.getPool().getIdleTimeout()).isEqualTo(d.idleTimeout());
        assertThat(p.getPool().getConnectionTimeout()).isEqualTo(d.connectionTimeout());
        assertThat(p.getPool().getMaxPending()).isEqualTo(d.maxPending());
        io.sluice.http.Http2Settings h2 = io.sluice.http.Http2Settings.defaults();
        assertThat(p.getHttp2().getMaxConcurrentStreams()).isEqualTo(h2.maxConcurrentStreams());
        assertThat(p.getHttp2().getInitialStreamWindow()).isEqualTo(h2.initialStreamWindow());
        assertThat(p.getHttp2().getConnectionWindow()).isEqualTo(h2.connectionWindow());
        assertThat(p.getHttp2().getMaxWindow()).isEqualTo(h2.maxWindow());
        assertThat(p.getHttp2().getPingInterval()).isEqualTo(h2.pingInterval());
        assertThat(p.getHttp2().getPingTimeout()).isEqualTo(h2.pingTimeout());
        io.sluice.http.Timeouts t = io.sluice.http.Timeouts.defaults();
        assertThat(p.getTimeouts().getHeaders()).isEqualTo(t.headers());
        assertThat(p.getTimeouts().getBodyIdle()).isEqualTo(t.bodyIdle());
        io.sluice.http.retry.StatusRetryPolicy r = io.sluice.http.retry.StatusRetryPolicy.defaults();
        assertThat(p.getRetries().getMaxRetries()).isEqualTo(r.maxRetries());
    }

    @Test
    void customizersRunAfterTheProperties() {
        runner.withPropertyValues("sluice.pool.max-connections=7")
                .withBean(SluiceClientCustomizer.class, () -> b -> b.poolConfig(
                        PoolConfig.builder().maxConnections(3).minIdle(0).build()))
                .run(context -> assertThat(context.getBean(ConnectionPoolManager.class)
                        .pool(new Route("https", "example.invalid", 443)).config().maxConnections()).isEqualTo(3));
    }

    @Test
    void aManagerOfTheApplicationsOwnWins() {
        runner.withBean("mine", ConnectionPoolManager.class, () -> ConnectionPoolManager.builder()
                        .poolConfig(PoolConfig.builder().maxConnections(2).minIdle(0).build()).build())
                .run(context -> {
                    assertThat(context).getBeans(ConnectionPoolManager.class).containsOnlyKeys("mine");
                    assertThat(context).hasSingleBean(SluiceDrain.class);
                });
    }

    final ApplicationContextRunner web = runner.withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class,
            SluiceHttpClientAutoConfiguration.class, HttpClientAutoConfiguration.class,
            ImperativeHttpClientAutoConfiguration.class, ReactiveHttpClientAutoConfiguration.class,
            RestClientAutoConfiguration.class, WebClientAutoConfiguration.class));

    @Test
    void bootsRestClientAndWebClientBuildersRunOverSluice() {
        web.withPropertyValues(trustTheMock()).run(context -> {
            assertThat(context).hasSingleBean(SluiceClientHttpRequestFactoryBuilder.class)
                    .hasSingleBean(SluiceClientHttpConnectorBuilder.class);
            ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
            String chat = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

            RestClient rest = context.getBean(RestClient.Builder.class).baseUrl(mock.httpsUri().toString()).build();
            assertThat(rest.post().uri("/v1/chat/completions").header("authorization", "Bearer " + KEY)
                    .contentType(MediaType.APPLICATION_JSON).body(chat).retrieve().body(String.class))
                    .contains("chat.completion");
            assertThat(manager.stats(mockRoute()).acquisitions()).isEqualTo(1);

            WebClient webClient = context.getBean(WebClient.Builder.class).baseUrl(mock.httpsUri().toString()).build();
            assertThat(webClient.post().uri("/v1/chat/completions").header("authorization", "Bearer " + KEY)
                    .contentType(MediaType.APPLICATION_JSON).bodyValue(chat).retrieve().bodyToMono(String.class)
                    .block(Duration.ofSeconds(30))).contains("chat.completion");
            assertThat(manager.stats(mockRoute()).acquisitions()).as("both went through Sluice's pool").isEqualTo(2);
        });
    }

    @Test
    void aClientChosenByPropertyIsLeftAlone() {
        web.withPropertyValues("spring.http.clients.imperative.factory=jdk", "spring.http.clients.reactive.connector=jdk")
                .run(context -> {
                    assertThat(context).doesNotHaveBean(SluiceClientHttpRequestFactoryBuilder.class)
                            .doesNotHaveBean(SluiceClientHttpConnectorBuilder.class);
                    assertThat(context.getBean(ClientHttpRequestFactoryBuilder.class))
                            .isInstanceOf(JdkClientHttpRequestFactoryBuilder.class);
                    assertThat(context.getBean(ClientHttpConnectorBuilder.class))
                            .isNotInstanceOf(SluiceClientHttpConnectorBuilder.class);
                });
        web.withPropertyValues("sluice.http-clients.enabled=false").run(context -> assertThat(context)
                .doesNotHaveBean(SluiceClientHttpRequestFactoryBuilder.class)
                .doesNotHaveBean(SluiceClientHttpConnectorBuilder.class));
    }

    @Test
    void anSslBundleOtherThanSluicesIsRefusedNotIgnored() {
        web.withPropertyValues(trustTheMock()).withPropertyValues(
                "spring.ssl.bundle.pem.other.truststore.certificate=" + mock.certificatePem(),
                "spring.http.clients.ssl.bundle=other").run(context -> assertThatThrownBy(
                        () -> context.getBean(RestClient.Builder.class).build().get().uri(mock.httpsUri()).retrieve()
                                .toBodilessEntity())
                        .hasStackTraceContaining("sluice.tls.bundle"));
    }

    final ApplicationContextRunner sdks = runner.withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class,
            SluiceSdkAutoConfiguration.class));

    @Test
    void theSdkClientsShareTheOneManager() {
        sdks.withPropertyValues(trustTheMock()).withPropertyValues("sluice.openai.api-key=" + KEY,
                "sluice.openai.base-url=" + mock.httpsUri() + "/v1", "sluice.anthropic.api-key=" + KEY,
                "sluice.anthropic.base-url=" + mock.httpsUri()).run(context -> {
                    ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                    OpenAIClient openai = context.getBean(OpenAIClient.class);
                    assertThat(openai.chat().completions().create(ChatCompletionCreateParams.builder()
                            .model("gpt-4o-mini").addUserMessage("hi").build()).choices()).isNotEmpty();
                    AnthropicClient anthropic = context.getBean(AnthropicClient.class);
                    assertThat(anthropic.messages().create(MessageCreateParams.builder().model("claude-sonnet-4-5")
                            .maxTokens(64).addUserMessage("hi").build()).content()).isNotEmpty();
                    assertThat(manager.stats(mockRoute()).acquisitions()).as("both SDKs on the one pool").isEqualTo(2);
                });
    }

    @Test
    void noSdkClientWithoutAnApiKeyAndNoneOverTheApplicationsOwn() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("OPENAI_API_KEY") == null
                && System.getenv("ANTHROPIC_API_KEY") == null && System.getenv("ANTHROPIC_AUTH_TOKEN") == null);
        sdks.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(OpenAIClient.class)
                .doesNotHaveBean(AnthropicClient.class));
        sdks.withPropertyValues("sluice.openai.api-key=" + KEY, "sluice.openai.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(OpenAIClient.class));
    }

    /** Signals when the context's close has begun stopping lifecycles: it stops before Sluice's drain (higher phase). */
    @Configuration(proxyBeanMethods = false)
    static class CloseProbe {
        static final CountDownLatch stopping = new CountDownLatch(1);

        @Bean
        SmartLifecycle closeProbe() {
            return new SmartLifecycle() {
                volatile boolean running;

                @Override
                public void start() {
                    running = true;
                }

                @Override
                public void stop() {
                    running = false;
                    stopping.countDown();
                }

                @Override
                public boolean isRunning() {
                    return running;
                }
            };
        }
    }

    @Test
    void closingTheContextLetsAStreamInFlightFinishThenClosesTheManager() throws Exception {
        try (io.sluice.spring.http.LockstepServerAccess server = new io.sluice.spring.http.LockstepServerAccess()) {
            runner.withUserConfiguration(CloseProbe.class).run(context -> {
                ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                StreamingResponse stream = manager.streamBlocking(HttpRequest.newBuilder(server.uri("/sse?n=2")).build());
                server.releaseEvent();
                assertThat(stream.nextEventBlocking().data()).isEqualTo("event-1");

                Thread closer = new Thread(context::close, "context-close");
                closer.start();
                assertThat(CloseProbe.stopping.await(10, TimeUnit.SECONDS)).as("the close has begun").isTrue();

                server.releaseEvent(); // the rest of the stream arrives while the context is closing
                assertThat(stream.nextEventBlocking().data()).isEqualTo("event-2");
                assertThat(stream.nextEventBlocking()).as("the stream ended normally, not cut").isNull();
                closer.join(TimeUnit.SECONDS.toMillis(20));
                assertThat(closer.isAlive()).isFalse();
                assertThatThrownBy(() -> manager.sendBlocking(HttpRequest.newBuilder(URI.create(server.uri("/x")
                        .toString())).build())).isInstanceOf(ClientClosedException.class);
            });
        }
    }
}

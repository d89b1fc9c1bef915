package io.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.http.ClientClosedException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.RateLimitedException;
import io.sluice.http.Route;
import io.sluice.ratelimit.RateLimiter;
import io.sluice.ratelimit.RedisBudgets;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.config.DestructionAwareBeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.http.client.autoconfigure.HttpClientAutoConfiguration;
import org.springframework.boot.http.client.autoconfigure.imperative.ImperativeHttpClientAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import redis.embedded.RedisServer;

/**
 * {@code sluice.rate-limits.*} in real application contexts against the testkit's mock provider enforcing a rate
 * limit the way providers do (a continuously refilling bucket, OpenAI's headers, 429 with retry-after): enabled, a
 * burst through the starter's manager is shaped and the provider answers no 429, while the same burst without the
 * property gets 429s; {@code mode=fail} and {@code max-wait} refuse a request beyond the budget before it is sent;
 * a limiter bean of the application's own is the one installed; fleet mode without Bucket4j and Lettuce fails at
 * start-up naming them, and against a real Redis (started by the test) admits through the shared budget; the manager
 * is closed before the limiter, and a request still waiting for room fails unsent when the context closes; with a
 * meter registry the limiter's meters are bound. Each context gets its own mock,
 * whose budget is its state.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SluiceRateLimitAutoConfigurationTest {

    static final String KEY = "sk-rate-limit-test";
    static final String CHAT =
            "{\"model\":\"gpt-4o-mini\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class, SluiceAutoConfiguration.class,
                    SluiceRateLimitAutoConfiguration.class))
            // status retries off: a 429 is counted once, as the provider sent it, not retried
            .withPropertyValues("sluice.pool.min-idle=0", "sluice.retries.enabled=false");

    /** A mock enforcing {@code requests} per {@code window}, starting full. */
    static MockProvider limitedMock(long requests, Duration window) {
        return MockProvider.start(MockOptions.builder().enforceRateLimits(true).rateLimitRequests(requests)
                .rateLimitWindow(window).build());
    }

    /** Trusts the mock's certificate through an SSL bundle, as an application would. */
    static String[] trust(MockProvider mock) {
        return new String[] { "spring.ssl.bundle.pem.mock.truststore.certificate=" + mock.certificatePem(),
                "sluice.tls.bundle=mock" };
    }

    static HttpRequest chat(MockProvider mock) {
        return HttpRequest.newBuilder(mock.httpsUri().resolve("/v1/chat/completions"))
                .header("authorization", "Bearer " + KEY).header("content-type", "application/json").POST(CHAT).build();
    }

    /** {@code n} requests sent at once through {@code manager}; their statuses, each answer bounded. */
    static List<Integer> burst(ConnectionPoolManager manager, MockProvider mock, int n) throws Exception {
        List<CompletableFuture<HttpResponse>> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sent.add(manager.send(chat(mock)));
        }
        List<Integer> statuses = new ArrayList<>();
        for (CompletableFuture<HttpResponse> f : sent) {
            statuses.add(f.get(40, TimeUnit.SECONDS).status());
        }
        return statuses;
    }

    // ------------------------------------------------------------------ shaping on and off

    @Test
    void enabledABurstThroughTheStartersManagerIsShapedAndTheProviderAnswersNo429() throws Exception {
        try (MockProvider mock = limitedMock(20, Duration.ofSeconds(2))) { // a bucket of 20 refilling 10 a second
            runner.withPropertyValues(trust(mock)).withPropertyValues("sluice.rate-limits.enabled=true")
                    .run(context -> {
                        assertThat(context).hasNotFailed().hasSingleBean(RateLimiter.class);
                        ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                        assertThat(burst(manager, mock, 1)).containsOnly(200); // the first answer announces the budget
                        assertThat(burst(manager, mock, 40)).containsOnly(200);
                        assertThat(mock.stats().rateLimitRejected()).as("429s the provider sent").isZero();
                        assertThat(context.getBean(RateLimiter.class).stats().shaped())
                                .as("requests that waited for room").isPositive();
                    });
        }
    }

    @Test
    void offByDefaultTheSameBurstGets429s() throws Exception {
        try (MockProvider mock = limitedMock(20, Duration.ofSeconds(2))) {
            runner.withPropertyValues(trust(mock)).run(context -> {
                assertThat(context).hasNotFailed().doesNotHaveBean(RateLimiter.class);
                ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                assertThat(burst(manager, mock, 1)).containsOnly(200);
                assertThat(burst(manager, mock, 40)).contains(429);
                assertThat(mock.stats().rateLimitRejected()).isPositive();
            });
        }
    }

    // ------------------------------------------------------------------ fail mode and max-wait

    final ApplicationContextRunner web = runner.withConfiguration(AutoConfigurations.of(
            SluiceHttpClientAutoConfiguration.class, HttpClientAutoConfiguration.class,
            ImperativeHttpClientAutoConfiguration.class, RestClientAutoConfiguration.class));

    @Test
    void failModeRefusesARequestBeyondTheBudgetWithoutSendingIt() throws Exception {
        try (MockProvider mock = limitedMock(2, Duration.ofSeconds(60))) { // 2 a minute: no refill within the test
            web.withPropertyValues(trust(mock)).withPropertyValues("sluice.rate-limits.enabled=true",
                    "sluice.rate-limits.mode=fail").run(context -> {
                        ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                        assertThat(manager.sendBlocking(chat(mock)).status()).isEqualTo(200); // announces 1 left
                        assertThat(manager.sendBlocking(chat(mock)).status()).isEqualTo(200); // takes it
                        assertThatThrownBy(() -> manager.sendBlocking(chat(mock)))
                                .isInstanceOfSatisfying(RateLimitedException.class, e -> {
                                    assertThat(e.budget()).isEqualTo("requests");
                                    assertThat(e.retryAfter()).isPositive();
                                });

                        // what a RestClient user sees: Spring's ResourceAccessException, the refusal as its cause
                        RestClient rest = context.getBean(RestClient.Builder.class).baseUrl(mock.httpsUri().toString())
                                .build();
                        assertThatThrownBy(() -> rest.post().uri("/v1/chat/completions")
                                .header("authorization", "Bearer " + KEY).header("content-type", "application/json")
                                .body(CHAT).retrieve().body(String.class))
                                .isInstanceOf(ResourceAccessException.class)
                                .hasRootCauseInstanceOf(RateLimitedException.class);

                        assertThat(mock.stats().requests("/v1/chat/completions")).as("the refused ones never sent")
                                .isEqualTo(2);
                        assertThat(mock.stats().rateLimitRejected()).isZero();
                        assertThat(context.getBean(RateLimiter.class).stats().rejected()).isEqualTo(2);
                    });
        }
    }

    @Test
    void maxWaitRefusesAtOnceAWaitPredictedLonger() throws Exception {
        try (MockProvider mock = limitedMock(2, Duration.ofSeconds(60))) { // the next room is ~30 s away
            runner.withPropertyValues(trust(mock)).withPropertyValues("sluice.rate-limits.enabled=true",
                    "sluice.rate-limits.max-wait=2s").run(context -> {
                        ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                        assertThat(burst(manager, mock, 1)).containsOnly(200);
                        assertThat(burst(manager, mock, 1)).containsOnly(200);
                        assertThatThrownBy(() -> manager.sendBlocking(chat(mock)))
                                .isInstanceOf(RateLimitedException.class);
                        assertThat(mock.stats().requests("/v1/chat/completions")).isEqualTo(2);
                    });
        }
    }

    // ------------------------------------------------------------------ the application's own limiter

    @Test
    void aLimiterBeanOfTheApplicationsOwnIsTheOneInstalled() throws Exception {
        try (MockProvider mock = limitedMock(2, Duration.ofSeconds(60))) {
            runner.withPropertyValues(trust(mock)).withPropertyValues("sluice.rate-limits.enabled=true")
                    // the properties say wait; the application's limiter fails at once
                    .withBean("myLimiter", RateLimiter.class, () -> RateLimiter.builder().mode(RateLimiter.Mode.FAIL)
                            .build())
                    .run(context -> {
                        assertThat(context).getBeans(RateLimiter.class).containsOnlyKeys("myLimiter");
                        RateLimiter mine = context.getBean(RateLimiter.class);
                        ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                        assertThat(manager.sendBlocking(chat(mock)).status()).isEqualTo(200);
                        assertThat(manager.sendBlocking(chat(mock)).status()).isEqualTo(200);
                        assertThat(mine.stats().admittedAtOnce()).as("its budget saw both").isEqualTo(2);
                        assertThatThrownBy(() -> manager.sendBlocking(chat(mock)))
                                .isInstanceOf(RateLimitedException.class);
                        assertThat(mine.stats().rejected()).isEqualTo(1);
                    });
        }
    }

    // ------------------------------------------------------------------ fleet mode

    @Test
    void aRedisUriWithoutBucket4jAndLettuceFailsStartUpNamingThem() {
        runner.withClassLoader(new FilteredClassLoader("io.github.bucket4j", "io.lettuce"))
                .withPropertyValues("sluice.rate-limits.enabled=true",
                        "sluice.rate-limits.fleet.redis-uri=redis://127.0.0.1:1")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause().isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("sluice.rate-limits.fleet.redis-uri")
                            .hasMessageContaining("com.bucket4j:bucket4j_jdk17-lettuce")
                            .hasMessageContaining("io.lettuce:lettuce-core");
                });
        // the same class path without the URI: a local limiter needs neither
        runner.withClassLoader(new FilteredClassLoader("io.github.bucket4j", "io.lettuce"))
                .withPropertyValues("sluice.rate-limits.enabled=true")
                .run(context -> assertThat(context).hasNotFailed().hasSingleBean(RateLimiter.class));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void fleetModeAdmitsThroughARealRedisUnderTheConfiguredPrefix() throws Exception {
        int port = freePort();
        // a real redis-server on loopback (the binary comes in the embedded-redis jar); no persistence
        RedisServer redis = RedisServer.newRedisServer().port(port).bind("127.0.0.1").setting("save \"\"")
                .setting("appendonly no").build();
        redis.start();
        try (MockProvider mock = limitedMock(20, Duration.ofSeconds(2))) {
            String uri = "redis://127.0.0.1:" + port;
            runner.withPropertyValues(trust(mock)).withPropertyValues("sluice.rate-limits.enabled=true",
                    "sluice.rate-limits.fleet.redis-uri=" + uri, "sluice.rate-limits.fleet.key-prefix=starter-test:",
                    "sluice.rate-limits.fleet.timeout=1s").run(context -> {
                        RateLimiter limiter = context.getBean(RateLimiter.class);
                        ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                        // build() connects in the background and admits locally until Redis answers
                        await().atMost(Duration.ofSeconds(20)).until(() -> limiter.stats().fleetAvailable());
                        assertThat(burst(manager, mock, 1)).containsOnly(200); // announces the budget
                        assertThat(burst(manager, mock, 10)).containsOnly(200);
                        assertThat(limiter.stats().fleetAdmitted()).as("granted by the shared bucket").isPositive();
                        assertThat(mock.stats().rateLimitRejected()).isZero();
                        RedisClient client = RedisClient.create(uri);
                        try (StatefulRedisConnection<String, String> c = client.connect()) {
                            assertThat(c.sync().keys("starter-test:*")).as("the shared buckets").isNotEmpty();
                            assertThat(c.sync().keys("sluice:ratelimit:*")).isEmpty();
                        } finally {
                            client.shutdown(Duration.ZERO, Duration.ofSeconds(5));
                        }
                    });
        } finally {
            redis.stop();
        }
    }

    // ------------------------------------------------------------------ lifecycle

    /** Records the order in which Spring destroys the manager and the limiter (just before each one's close). */
    static final class DestructionOrder implements DestructionAwareBeanPostProcessor {
        final List<String> destroyed = new CopyOnWriteArrayList<>();

        @Override
        public void postProcessBeforeDestruction(Object bean, String beanName) {
            if (bean instanceof ConnectionPoolManager) {
                destroyed.add("manager");
            } else if (bean instanceof RateLimiter) {
                destroyed.add("limiter");
            }
        }

        @Override
        public boolean requiresDestruction(Object bean) {
            return bean instanceof ConnectionPoolManager || bean instanceof RateLimiter;
        }
    }

    @Test
    void theContextClosesTheManagerBeforeTheLimiter() throws Exception {
        try (MockProvider mock = limitedMock(20, Duration.ofSeconds(2))) {
            for (boolean ownLimiter : new boolean[] { false, true }) {
                DestructionOrder order = new DestructionOrder();
                List<Object> seen = new ArrayList<>();
                ApplicationContextRunner r = runner.withPropertyValues(trust(mock))
                        .withPropertyValues("sluice.rate-limits.enabled=true")
                        .withBean(DestructionOrder.class, () -> order);
                if (ownLimiter) {
                    r = r.withBean("myLimiter", RateLimiter.class, () -> RateLimiter.builder().build());
                }
                r.run(context -> {
                    ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                    assertThat(manager.sendBlocking(chat(mock)).status()).isEqualTo(200);
                    seen.add(manager);
                    seen.add(context.getBean(RateLimiter.class));
                });
                assertThat(order.destroyed).as("own limiter: " + ownLimiter).containsExactly("manager", "limiter");
                ConnectionPoolManager manager = (ConnectionPoolManager) seen.get(0);
                RateLimiter limiter = (RateLimiter) seen.get(1);
                assertThatThrownBy(() -> manager.sendBlocking(chat(mock))).isInstanceOf(ClientClosedException.class);
                assertThatThrownBy(() -> limiter.admit(chat(mock), 0).get(5, TimeUnit.SECONDS))
                        .as("the context closed the limiter too").isInstanceOf(ExecutionException.class)
                        .hasCauseInstanceOf(ClientClosedException.class);
            }
        }
    }

    /**
     * The drain waits for a request waiting for room in its budget as for any call in flight, up to the drain's
     * timeout (here 1 s, with the next room ~30 s away); one still waiting then fails, typed, and is never sent.
     */
    @Test
    void aRequestStillWaitingForRoomWhenTheDrainEndsFailsUnsent() throws Exception {
        try (MockProvider mock = limitedMock(2, Duration.ofSeconds(60))) { // the next room is ~30 s away
            List<CompletableFuture<HttpResponse>> waiting = new ArrayList<>();
            runner.withPropertyValues(trust(mock)).withPropertyValues("sluice.rate-limits.enabled=true",
                            "sluice.shutdown.drain-timeout=1s")
                    .run(context -> {
                        ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                        assertThat(burst(manager, mock, 1)).containsOnly(200);
                        assertThat(burst(manager, mock, 1)).containsOnly(200);
                        waiting.add(manager.send(chat(mock)));
                        RateLimiter limiter = context.getBean(RateLimiter.class);
                        await().atMost(Duration.ofSeconds(10))
                                .until(() -> limiter.stats().byRoute().values().stream()
                                        .mapToInt(b -> b.waiting()).sum() == 1);
                    }); // run() closes the context here
            assertThatThrownBy(() -> waiting.get(0).get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(ClientClosedException.class);
            assertThat(mock.stats().requests("/v1/chat/completions")).isEqualTo(2);
        }
    }

    // ------------------------------------------------------------------ metrics

    final ApplicationContextRunner metered = runner.withConfiguration(AutoConfigurations.of(
            MetricsAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class,
            SimpleMetricsExportAutoConfiguration.class, SluiceMetricsAutoConfiguration.class,
            SluiceRateLimitMetricsAutoConfiguration.class));

    @Test
    void withAMeterRegistryTheLimitersMetersAreBound() throws Exception {
        try (MockProvider mock = limitedMock(20, Duration.ofSeconds(60))) {
            metered.withPropertyValues(trust(mock)).withPropertyValues("sluice.rate-limits.enabled=true")
                    .run(context -> {
                        MeterRegistry registry = context.getBean(MeterRegistry.class);
                        ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
                        assertThat(burst(manager, mock, 3)).containsOnly(200);
                        String route = Route.of(mock.httpsUri()).toString();

                        FunctionCounter atOnce = registry.find("sluice.ratelimit.admitted").tag("how", "at_once")
                                .functionCounter();
                        assertThat(atOnce).as("sluice_ratelimit_admitted_total{how=at_once}").isNotNull();
                        assertThat(atOnce.count()).isEqualTo(3);
                        for (String name : List.of("sluice.ratelimit.wait", "sluice.ratelimit.rejected",
                                "sluice.ratelimit.too.many.requests", "sluice.ratelimit.fleet.admitted",
                                "sluice.ratelimit.fleet.fallbacks", "sluice.ratelimit.redis.errors")) {
                            assertThat(registry.find(name).functionCounter()).as(name).isNotNull();
                        }
                        assertThat(registry.find("sluice.ratelimit.fleet.available").gauge().value()).isZero();

                        // per route, for routes the manager opened after the registry bound: the budget left
                        Gauge requests = registry.find("sluice.ratelimit.requests.available").tag("route", route)
                                .gauge();
                        assertThat(requests).as("sluice_ratelimit_requests_available{route}").isNotNull();
                        assertThat(requests.value()).isBetween(0.0, 18.0); // 20 a minute, 3 spent
                        assertThat(registry.find("sluice.ratelimit.waiting").tag("route", route).gauge().value())
                                .isZero();
                        assertThat(registry.find("sluice.ratelimit.tokens.available").tag("route", route).gauge())
                                .isNotNull();
                    });
            metered.withPropertyValues(trust(mock)).run(context -> assertThat(
                    context.getBean(MeterRegistry.class).find("sluice.ratelimit.admitted").meters())
                    .as("no limiter, no meters").isEmpty());
        }
    }

    // ------------------------------------------------------------------ properties: defaults, IDE metadata, docs

    @Test
    void thePropertyDefaultsAreTheLibrarysOwn() throws Exception {
        SluiceProperties.RateLimits p = new SluiceProperties().getRateLimits();
        assertThat(p.isEnabled()).as("opt-in: shaping changes behaviour").isFalse();
        assertThat(p.getMode()).isEqualTo(SluiceProperties.RateLimits.Mode.WAIT);
        assertThat(p.getMaxWait()).isNull();
        assertThat(p.getFleet().getRedisUri()).isNull();
        // RedisBudgets has no getters: its builder's defaults, read from what it built
        RedisBudgets library = RedisBudgets.builder("redis://127.0.0.1:1").build();
        assertThat(p.getFleet().getKeyPrefix()).isEqualTo(field(library, "keyPrefix"));
        assertThat(p.getFleet().getTimeout()).isEqualTo(field(library, "timeout"));
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    static final List<String> PROPERTIES = List.of("sluice.rate-limits.enabled", "sluice.rate-limits.mode",
            "sluice.rate-limits.max-wait", "sluice.rate-limits.fleet.redis-uri", "sluice.rate-limits.fleet.key-prefix",
            "sluice.rate-limits.fleet.timeout");

    /** The starter's own metadata, generated by spring-boot-configuration-processor at compile time. */
    static JsonNode metadata() throws IOException {
        for (URL url : Collections.list(SluiceRateLimitAutoConfigurationTest.class.getClassLoader()
                .getResources("META-INF/spring-configuration-metadata.json"))) {
            try (InputStream in = url.openStream()) {
                JsonNode json = new ObjectMapper().readTree(in);
                if (json.path("groups").findValuesAsText("name").contains("sluice")) {
                    return json;
                }
            }
        }
        throw new AssertionError("no spring-configuration-metadata.json with the sluice group on the class path");
    }

    @Test
    void everyRateLimitPropertyHasIdeMetadataAndARowInTheDocs() throws Exception {
        JsonNode metadata = metadata();
        String docs = Files.readString(Path.of("..", "docs", "spring-boot.md")); // tests run in the module directory
        for (String name : PROPERTIES) {
            JsonNode property = null;
            for (JsonNode p : metadata.path("properties")) {
                if (p.path("name").asText().equals(name)) {
                    property = p;
                }
            }
            assertThat(property).as(name + " in the metadata").isNotNull();
            String description = property.path("description").asText();
            assertThat(description).as(name + "'s description").isNotBlank();
            String defaultValue = property.path("defaultValue").asText("");
            assertThat(docs).as(name + "'s row in docs/spring-boot.md")
                    .contains("| `" + name + "` | " + (defaultValue.isEmpty() ? "" : "`" + defaultValue + "`") + " | "
                            + description + " |");
        }
        assertThat(metadata.path("properties").findValuesAsText("name").stream()
                .filter(n -> n.startsWith("sluice.rate-limits."))).as("nothing undocumented")
                .containsExactlyInAnyOrderElementsOf(PROPERTIES);
    }
}

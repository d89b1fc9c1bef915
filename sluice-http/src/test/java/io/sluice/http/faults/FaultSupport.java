package io.sluice.http.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.Route;
import io.sluice.http.SluiceHttpException;
import io.sluice.http.TlsOptions;
import io.sluice.http.internal.client.Errors;
import io.sluice.pool.PoolConfig;
import io.sluice.pool.PoolStats;
import io.sluice.testkit.MockProvider;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Shared pieces of the fault matrix: the protocol parameter, clients that trust the mock,
 * the "completed within its deadline" bound and exact pool accounting (the Netty leak check is the
 * testkit's {@code NettyLeakCheck}).
 */
public final class FaultSupport {

    /** Slack added to a request's deadline before a test calls it a hang. Generous on purpose: not a timing assertion. */
    static final Duration HANG_SLACK = Duration.ofSeconds(5);

    private FaultSupport() {
    }

    /** The two wire protocols a row runs over: HTTP/1.1 on the cleartext port, HTTP/2 over TLS (ALPN h2). */
    enum Proto {
        H1, H2;

        URI uri(MockProvider mock, String path) {
            return (this == H1 ? mock.httpUri() : mock.httpsUri()).resolve(path);
        }
    }

    /** Pool settings for fault tests: no pre-warm, no connect retries, short acquire bound. */
    static PoolConfig.Builder pool() {
        return PoolConfig.builder().minIdle(0).maxRetries(0).connectionTimeout(Duration.ofSeconds(5));
    }

    static ConnectionPoolManager.Builder clientFor(MockProvider mock) {
        return ConnectionPoolManager.builder()
                .poolConfig(pool().build())
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build());
    }

    static HttpRequest.Builder chat(URI uri, boolean stream) {
        return HttpRequest.newBuilder(uri)
                .POST("{\"model\":\"gpt-4o-mini\",\"stream\":" + stream
                        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .header("content-type", "application/json")
                .header("authorization", "Bearer sk-fault-secret");
    }

    /** Waits for {@code f} up to {@code deadline} plus {@link #HANG_SLACK}; a longer wait is a hang and fails the test. */
    static <T> T within(CompletableFuture<T> f, Duration deadline) {
        try {
            return f.get(deadline.plus(HANG_SLACK).toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return fail("did not complete within its deadline " + deadline + " (+ " + HANG_SLACK + " slack): hung");
        } catch (ExecutionException e) {
            throw Errors.map("test", e, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted");
        }
    }

    /** Expects {@code f} to fail within the bound with a {@code type}; returns the failure. */
    static <E extends SluiceHttpException> E failsWithin(CompletableFuture<?> f, Duration deadline, Class<E> type) {
        try {
            Object v = f.get(deadline.plus(HANG_SLACK).toMillis(), TimeUnit.MILLISECONDS);
            return fail("expected " + type.getSimpleName() + " but completed with " + v);
        } catch (TimeoutException e) {
            return fail("did not complete within its deadline " + deadline + " (+ " + HANG_SLACK + " slack): hung");
        } catch (ExecutionException e) {
            Throwable t = Errors.unwrap(e);
            assertThat(t).as("failure type").isInstanceOf(type);
            return type.cast(t);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted");
        }
    }

    /**
     * Exact accounting on every route of the client once releases settled: no lease out, nobody
     * waiting, and every open connection is idle, in use or draining.
     */
    public static void assertAccountingExact(ConnectionPoolManager client) {
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).untilAsserted(() -> {
            for (Map.Entry<Route, PoolStats> e : client.allStats().entrySet()) {
                PoolStats s = e.getValue();
                assertThat(s.leasesOut()).as("leasesOut of %s: %s", e.getKey(), s).isZero();
                assertThat(s.pending()).as("pending of %s: %s", e.getKey(), s).isZero();
                assertThat(s.open()).as("open == idle + inUse + draining for %s: %s", e.getKey(), s)
                        .isEqualTo(s.idle() + s.inUse() + s.draining());
            }
        });
    }
}

package io.sluice.bench.compare;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The JDK's {@code java.net.http.HttpClient} (Java 17), HTTP/2 preferred, default executor.
 *
 * <p>It keeps one HTTP/2 connection per origin and fails a request beyond the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS with {@code IOException: too many concurrent streams} instead of
 * queueing it. So its throughput concurrency is capped at the server's limit (system property
 * {@code compare.serverMaxStreams}, the mock's 256 by default); the report shows the concurrency
 * it actually ran at.
 *
 * <p>Memory mode: it cannot hold more than one HTTP/2 connection to an origin, so it speaks
 * HTTP/1.1 there (one connection per in-flight request, kept alive in its unbounded pool).
 */
final class JdkPeer implements Peer {
    private final HttpClient client;
    private final PeerConfig cfg;

    JdkPeer(PeerConfig cfg) {
        this.cfg = cfg;
        this.client = HttpClient.newBuilder()
                .version(cfg.memoryMode() ? HttpClient.Version.HTTP_1_1 : HttpClient.Version.HTTP_2)
                .sslContext(Tls.sslContext(cfg.certPem()))
                .connectTimeout(Duration.ofSeconds(30))
                .build();
    }

    @Override
    public void send(long delayMs, Done done) {
        HttpRequest.Builder rb = HttpRequest.newBuilder(cfg.target())
                .POST(HttpRequest.BodyPublishers.ofByteArray(Workload.BODY))
                .header("content-type", Workload.CONTENT_TYPE)
                .header("authorization", Workload.AUTHORIZATION);
        if (delayMs > 0) {
            rb.header(Workload.DELAY_HEADER, Long.toString(delayMs));
        }
        client.sendAsync(rb.build(), HttpResponse.BodyHandlers.ofByteArray()).whenComplete((resp, err) -> {
            if (err != null) {
                done.complete(0, 0, err);
            } else {
                done.complete(resp.statusCode(), resp.body().length, null);
            }
        });
    }

    @Override
    public int concurrency(int requested) {
        if (cfg.memoryMode()) {
            return requested;
        }
        return Math.min(requested, Integer.getInteger("compare.serverMaxStreams", 256));
    }

    @Override
    public String protocol() {
        return cfg.memoryMode() ? "http/1.1" : "h2";
    }

    @Override
    public String describe() {
        return "java.net.http.HttpClient, version HTTP_2, default executor; concurrency capped at the server's "
                + "max streams (one h2 connection, no queueing)";
    }

    @Override
    public void close() {
        // Java 17's HttpClient has no close(); its threads are daemons and the JVM exits after the run.
    }
}

package io.sluice.bench.compare;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.time.Duration;
import reactor.core.publisher.Mono;
import reactor.netty.http.Http2SslContextSpec;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.Http2AllocationStrategy;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Reactor Netty's {@code HttpClient} over HTTP/2 ({@code HttpProtocol.H2}, TLS via
 * {@code Http2SslContextSpec}, so OpenSSL/BoringSSL when netty-tcnative is present, as for
 * Sluice). Sizing {@code ConnectionProvider.maxConnections} to the concurrency alone makes it open
 * one HTTP/2 connection per in-flight request during the first burst, so, as its reference guide
 * recommends for HTTP/2, the provider gets an {@code Http2AllocationStrategy} with
 * {@code strictConnectionReuse(true)} (fill a connection to the server's stream limit before
 * opening another), minConnections 1 and maxConnections = the concurrency, unbounded pending
 * acquires. Default event loops (cores), the response aggregated with {@code responseSingle}.
 *
 * <p>Memory mode: same, with maxConnections = the target count and idle time 30 min; the mock
 * announces one stream per connection, so each in-flight request needs its own connection.
 */
final class ReactorNettyPeer implements Peer {
    private final HttpClient client;
    private final ConnectionProvider provider;
    private final PeerConfig cfg;

    ReactorNettyPeer(PeerConfig cfg) {
        this.cfg = cfg;
        int max = cfg.memoryMode() ? cfg.connections() : cfg.concurrency();
        this.provider = ConnectionProvider.builder("compare")
                .maxConnections(max)
                .pendingAcquireMaxCount(-1)
                .pendingAcquireTimeout(Duration.ofSeconds(cfg.memoryMode() ? 120 : 45))
                .maxIdleTime(Duration.ofMinutes(30))
                .allocationStrategy(Http2AllocationStrategy.builder()
                        .minConnections(1)
                        .maxConnections(max)
                        .strictConnectionReuse(true)
                        .build())
                .build();
        javax.net.ssl.X509TrustManager trust = Tls.trustManager(cfg.certPem());
        this.client = HttpClient.create(provider)
                .protocol(HttpProtocol.H2)
                .secure(spec -> spec.sslContext(Http2SslContextSpec.forClient().configure(b -> b.trustManager(trust))))
                .baseUrl(cfg.base().toString())
                .headers(h -> h.set(HttpHeaderNames.CONTENT_TYPE, Workload.CONTENT_TYPE)
                        .set(HttpHeaderNames.AUTHORIZATION, Workload.AUTHORIZATION));
    }

    @Override
    public void send(long delayMs, Done done) {
        HttpClient c = delayMs > 0 ? client.headers(h -> h.set(Workload.DELAY_HEADER, Long.toString(delayMs))) : client;
        c.post()
                .uri(cfg.pathAndQuery())
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(Workload.BODY)))
                .responseSingle((resp, body) -> body.asByteArray()
                        .defaultIfEmpty(new byte[0])
                        .map(b -> new long[] {resp.status().code(), b.length}))
                .subscribe(r -> done.complete((int) r[0], (int) r[1], null), e -> done.complete(0, 0, e));
    }

    @Override
    public String protocol() {
        return "h2";
    }

    @Override
    public String describe() {
        return "HttpClient H2, ConnectionProvider maxConnections = C with Http2AllocationStrategy "
                + "(strictConnectionReuse, min 1, max C), responseSingle";
    }

    @Override
    public void close() {
        provider.disposeLater().block(Duration.ofSeconds(10));
    }
}

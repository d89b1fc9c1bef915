package io.sluice.bench.compare;

import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Jetty 12's {@code HttpClient} over {@code HttpClientTransportOverHTTP2}
 * ({@code jetty-http2-client-transport}) with ALPN from {@code jetty-alpn-java-client}, as the
 * Jetty programming guide sets up HTTP/2 over TLS: a {@code ClientConnector} with a
 * {@code SslContextFactory.Client} trusting the mock's certificate, default selectors and
 * {@code QueuedThreadPool}. Streams are multiplexed up to the server's limit per connection
 * ({@code MultiplexConnectionPool}); maxConnectionsPerDestination stays at its default (64) and the
 * request queue per destination is raised from 1024 to fit the concurrency. The response is
 * buffered with {@code BufferingResponseListener}.
 *
 * <p>Memory mode: maxConnectionsPerDestination = the target count, idle timeout 30 min; the mock
 * announces one stream per connection, so each in-flight request needs its own connection.
 */
final class JettyPeer implements Peer {
    private final HttpClient client;
    private final PeerConfig cfg;

    JettyPeer(PeerConfig cfg) throws Exception {
        this.cfg = cfg;
        SslContextFactory.Client ssl = new SslContextFactory.Client();
        ssl.setTrustStore(Tls.trustStore(cfg.certPem()));
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(ssl);
        HTTP2Client h2 = new HTTP2Client(connector);
        this.client = new HttpClient(new HttpClientTransportOverHTTP2(h2));
        int max = cfg.memoryMode() ? cfg.connections() : cfg.concurrency();
        client.setMaxRequestsQueuedPerDestination(Math.max(1024, max * 4));
        if (cfg.memoryMode()) {
            client.setMaxConnectionsPerDestination(cfg.connections());
            client.setIdleTimeout(30 * 60_000L);
            client.setConnectTimeout(120_000L);
        }
        client.start();
    }

    @Override
    public void send(long delayMs, Done done) {
        Request r = client.newRequest(cfg.target())
                .method(HttpMethod.POST)
                .headers(h -> {
                    h.put("authorization", Workload.AUTHORIZATION);
                    if (delayMs > 0) {
                        h.put(Workload.DELAY_HEADER, Long.toString(delayMs));
                    }
                })
                .body(new BytesRequestContent(Workload.CONTENT_TYPE, Workload.BODY));
        r.send(new BufferingResponseListener(1024 * 1024) {
            @Override
            public void onComplete(Result result) {
                if (result.isFailed()) {
                    done.complete(0, 0, result.getFailure());
                } else {
                    byte[] b = getContent();
                    done.complete(result.getResponse().getStatus(), b == null ? 0 : b.length, null);
                }
            }
        });
    }

    @Override
    public String protocol() {
        return "h2";
    }

    @Override
    public String describe() {
        return "HttpClient over HttpClientTransportOverHTTP2 + ALPN (java client), default pool/threads, "
                + "BufferingResponseListener";
    }

    @Override
    public void close() throws Exception {
        client.stop();
    }
}

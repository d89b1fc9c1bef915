package io.sluice.bench.compare;

import org.apache.hc.client5.http.async.methods.SimpleHttpRequest;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.config.TlsConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.nio.ssl.TlsStrategy;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.apache.hc.core5.http2.config.H2Config;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * Apache HttpClient 5 async. Throughput: {@code HttpAsyncClients.customHttp2()}, the documented
 * HTTP/2-only client (one multiplexed connection per origin; streams above the server's limit are
 * queued), with one I/O reactor thread per core (its default), push disabled, and the
 * {@code SimpleHttpRequest}/{@code SimpleHttpResponse} message API that its examples use for small
 * in-memory bodies. It does not retry requests cut by a GOAWAY.
 *
 * <p>Memory mode: the HTTP/2-only client holds one connection per origin, so the pooling async
 * client ({@code HttpAsyncClients.custom()} with a {@code PoolingAsyncClientConnectionManager},
 * maxTotal = maxPerRoute = the target count) runs over HTTP/1.1 ({@code FORCE_HTTP_1}).
 */
final class ApachePeer implements Peer {
    private final CloseableHttpAsyncClient client;
    private final PeerConfig cfg;
    private final String url;

    ApachePeer(PeerConfig cfg) {
        this.cfg = cfg;
        this.url = cfg.target().toString();
        TlsStrategy tls = ClientTlsStrategyBuilder.create().setSslContext(Tls.sslContext(cfg.certPem())).build();
        IOReactorConfig io = IOReactorConfig.custom()
                .setIoThreadCount(Runtime.getRuntime().availableProcessors())
                .build();
        if (cfg.memoryMode()) {
            this.client = HttpAsyncClients.custom()
                    .setIOReactorConfig(io)
                    .setConnectionManager(PoolingAsyncClientConnectionManagerBuilder.create()
                            .setTlsStrategy(tls)
                            .setMaxConnTotal(cfg.connections())
                            .setMaxConnPerRoute(cfg.connections())
                            .setDefaultTlsConfig(TlsConfig.custom().setVersionPolicy(HttpVersionPolicy.FORCE_HTTP_1).build())
                            .setDefaultConnectionConfig(ConnectionConfig.custom()
                                    .setConnectTimeout(Timeout.ofSeconds(120))
                                    .setSocketTimeout(Timeout.ofMinutes(30))
                                    .setTimeToLive(TimeValue.ofMinutes(60))
                                    .build())
                            .build())
                    .setDefaultRequestConfig(RequestConfig.custom()
                            .setConnectionRequestTimeout(Timeout.ofSeconds(120))
                            .setResponseTimeout(Timeout.ofSeconds(120))
                            .build())
                    .build();
        } else {
            this.client = HttpAsyncClients.customHttp2()
                    .setTlsStrategy(tls)
                    .setIOReactorConfig(io)
                    .setH2Config(H2Config.custom().setPushEnabled(false).build())
                    .build();
        }
        client.start();
    }

    @Override
    public void send(long delayMs, Done done) {
        SimpleRequestBuilder rb = SimpleRequestBuilder.post(url)
                .setBody(Workload.BODY, ContentType.APPLICATION_JSON)
                .addHeader("authorization", Workload.AUTHORIZATION);
        if (delayMs > 0) {
            rb.addHeader(Workload.DELAY_HEADER, Long.toString(delayMs));
        }
        SimpleHttpRequest request = rb.build();
        client.execute(request, new FutureCallback<SimpleHttpResponse>() {
            @Override
            public void completed(SimpleHttpResponse r) {
                byte[] b = r.getBodyBytes();
                done.complete(r.getCode(), b == null ? 0 : b.length, null);
            }

            @Override
            public void failed(Exception e) {
                done.complete(0, 0, e);
            }

            @Override
            public void cancelled() {
                done.complete(0, 0, new java.util.concurrent.CancellationException());
            }
        });
    }

    @Override
    public String protocol() {
        return cfg.memoryMode() ? "http/1.1" : "h2";
    }

    @Override
    public String describe() {
        return cfg.memoryMode()
                ? "HttpAsyncClients.custom(), pooling manager maxTotal/maxPerRoute = N, FORCE_HTTP_1"
                : "HttpAsyncClients.customHttp2(), I/O threads = cores, push off, SimpleHttpRequest";
    }

    @Override
    public void close() {
        client.close(CloseMode.IMMEDIATE);
    }
}

package io.sluice.bench.compare;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509TrustManager;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * OkHttp 5 ({@code okhttp-jvm}) with {@code enqueue()}: HTTP/2 by ALPN (one multiplexed connection
 * per origin, a new one when the server's stream limit is reached). As OkHttp's documentation says
 * for async load, {@code Dispatcher.maxRequests} and {@code maxRequestsPerHost} are raised to the
 * concurrency (defaults 64 and 5). Each async call runs on a dispatcher thread; that is OkHttp's
 * design. Default connection pool (5 idle, 5 min) and timeouts (10 s read).
 *
 * <p>Memory mode: HTTP/1.1 only. Over HTTP/2 OkHttp opens streams on a new connection before the
 * server's SETTINGS arrive, so against the mock's limit of one stream per connection it gets
 * refused streams and errors instead of opening one connection per request. Over HTTP/1.1 each
 * in-flight call has its own connection; the pool keeps up to the target count idle for 30 min;
 * read timeout 120 s.
 */
final class OkHttpPeer implements Peer {
    private static final MediaType JSON = MediaType.get(Workload.CONTENT_TYPE);

    private final OkHttpClient client;
    private final PeerConfig cfg;
    private final String url;

    OkHttpPeer(PeerConfig cfg) {
        this.cfg = cfg;
        this.url = cfg.target().toString();
        int max = cfg.memoryMode() ? cfg.connections() : cfg.concurrency();
        Dispatcher d = new Dispatcher();
        d.setMaxRequests(Math.max(64, max));
        d.setMaxRequestsPerHost(Math.max(5, max));
        X509TrustManager tm = Tls.trustManager(cfg.certPem());
        OkHttpClient.Builder b = new OkHttpClient.Builder()
                .dispatcher(d)
                .protocols(cfg.memoryMode() ? List.of(Protocol.HTTP_1_1) : List.of(Protocol.HTTP_2, Protocol.HTTP_1_1))
                .sslSocketFactory(Tls.sslContext(cfg.certPem()).getSocketFactory(), tm);
        if (cfg.memoryMode()) {
            b.connectionPool(new ConnectionPool(cfg.connections(), 30, TimeUnit.MINUTES))
                    .readTimeout(Duration.ofSeconds(120))
                    .connectTimeout(Duration.ofSeconds(120));
        }
        this.client = b.build();
    }

    @Override
    public void send(long delayMs, Done done) {
        Request.Builder rb = new Request.Builder()
                .url(url)
                .post(RequestBody.create(Workload.BODY, JSON))
                .header("authorization", Workload.AUTHORIZATION);
        if (delayMs > 0) {
            rb.header(Workload.DELAY_HEADER, Long.toString(delayMs));
        }
        client.newCall(rb.build()).enqueue(new Callback() {
            @Override
            public void onFailure(Call call, IOException e) {
                done.complete(0, 0, e);
            }

            @Override
            public void onResponse(Call call, Response response) {
                int status = response.code();
                byte[] bytes;
                try (ResponseBody body = response.body()) {
                    bytes = body.bytes();
                } catch (IOException | RuntimeException e) {
                    done.complete(0, 0, e);
                    return;
                }
                done.complete(status, bytes.length, null);
            }
        });
    }

    @Override
    public String protocol() {
        return cfg.memoryMode() ? "http/1.1" : "h2";
    }

    @Override
    public String describe() {
        return "OkHttpClient enqueue(), Dispatcher maxRequests/maxRequestsPerHost = concurrency, h2 by ALPN, "
                + "default pool";
    }

    @Override
    public void close() {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}

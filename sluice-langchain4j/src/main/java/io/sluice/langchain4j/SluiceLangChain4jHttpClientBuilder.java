package io.sluice.langchain4j;

import dev.langchain4j.http.client.HttpClientBuilder;
import io.sluice.http.ConnectionPoolManager;
import java.time.Duration;

/**
 * Builds a {@link SluiceLangChain4jHttpClient}.
 *
 * <ul>
 *   <li>{@link #readTimeout}: per request, the longest wait for response bytes, headers
 *   included (Sluice's headers and body-idle timeouts); unset, the manager's defaults apply.</li>
 *   <li>{@link #connectTimeout}: Sluice bounds connects per manager. Without
 *   {@link #poolManager} the client uses the process-wide manager for that connect timeout
 *   ({@link SluiceLangChain4j}); with one, that manager's connect timeout applies and this value is
 *   only reported back.</li>
 * </ul>
 *
 * <p><b>Thread-safety:</b> not thread-safe; confine to one thread.
 */
public final class SluiceLangChain4jHttpClientBuilder implements HttpClientBuilder {

    private Duration connectTimeout;
    private Duration readTimeout;
    private ConnectionPoolManager pools;
    private io.sluice.http.TlsOptions tls;

    @Override
    public Duration connectTimeout() {
        return connectTimeout;
    }

    @Override
    public SluiceLangChain4jHttpClientBuilder connectTimeout(Duration timeout) {
        this.connectTimeout = timeout;
        return this;
    }

    @Override
    public Duration readTimeout() {
        return readTimeout;
    }

    @Override
    public SluiceLangChain4jHttpClientBuilder readTimeout(Duration timeout) {
        this.readTimeout = timeout;
        return this;
    }

    /** The manager to send through (build it with {@link SluiceLangChain4j#poolManagerBuilder()}); the caller keeps owning it. */
    public SluiceLangChain4jHttpClientBuilder poolManager(ConnectionPoolManager pools) {
        this.pools = pools;
        return this;
    }

    public ConnectionPoolManager poolManager() {
        return pools;
    }

    /**
     * TLS for the shared manager clients without {@link #poolManager} use (a private CA, a client
     * certificate, key stores): one shared manager per distinct TLS options and connect timeout.
     * Not with {@link #poolManager}: that manager has its own TLS settings.
     */
    public SluiceLangChain4jHttpClientBuilder tls(io.sluice.http.TlsOptions tls) {
        this.tls = tls;
        return this;
    }

    @Override
    public SluiceLangChain4jHttpClient build() {
        if (pools != null && tls != null) {
            throw new IllegalStateException("tls(..) configures the shared manager; a poolManager(..) of your own has "
                    + "its own TLS settings: set them on its builder");
        }
        ConnectionPoolManager p = pools != null ? pools : SluiceLangChain4j.sharedPoolManager(connectTimeout, tls);
        return new SluiceLangChain4jHttpClient(p, readTimeout);
    }
}

package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.spring.http.SluiceClientHttpRequestFactory;
import java.util.Objects;
import org.springframework.boot.http.client.ClientHttpRequestFactoryBuilder;
import org.springframework.boot.http.client.HttpClientSettings;
import org.springframework.boot.ssl.SslBundle;

/**
 * Boot's {@link ClientHttpRequestFactoryBuilder} for Sluice: every factory it builds runs over the one shared
 * manager, with the settings' read timeout (the wait for the head and each body gap) and connect timeout (the wait
 * for a pooled connection). The auto-configured {@code RestClient.Builder} and {@code RestTemplateBuilder} use it.
 *
 * <p>TLS belongs to the shared manager ({@code sluice.tls.bundle}): settings that name another SSL bundle (for
 * example {@code spring.http.clients.ssl.bundle} or {@code RestClientSsl}) cannot be honoured on a shared pool and
 * fail the build with an explanation instead of being ignored. Redirects are not followed.
 *
 * <p><b>Thread-safety:</b> immutable. <b>Ownership:</b> does not own the manager.
 */
public final class SluiceClientHttpRequestFactoryBuilder
        implements ClientHttpRequestFactoryBuilder<SluiceClientHttpRequestFactory> {

    private final ConnectionPoolManager manager;
    private final SslBundle managerBundle;

    /** Builds factories over {@code manager}; {@code managerBundle} is the SSL bundle it was built with, or null. */
    public SluiceClientHttpRequestFactoryBuilder(ConnectionPoolManager manager, SslBundle managerBundle) {
        this.manager = Objects.requireNonNull(manager, "manager");
        this.managerBundle = managerBundle;
    }

    @Override
    public SluiceClientHttpRequestFactory build(HttpClientSettings settings) {
        HttpClientSettings s = settings != null ? settings : HttpClientSettings.defaults();
        SluiceSslCheck.requireManagerBundle(s.sslBundle(), managerBundle);
        return new SluiceClientHttpRequestFactory(manager).readTimeout(s.readTimeout())
                .connectTimeout(s.connectTimeout());
    }
}

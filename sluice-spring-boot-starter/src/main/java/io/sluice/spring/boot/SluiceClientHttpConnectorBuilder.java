package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.spring.http.SluiceClientHttpConnector;
import java.util.Objects;
import org.springframework.boot.http.client.HttpClientSettings;
import org.springframework.boot.http.client.reactive.ClientHttpConnectorBuilder;
import org.springframework.boot.ssl.SslBundle;

/**
 * Boot's {@link ClientHttpConnectorBuilder} for Sluice: the auto-configured {@code WebClient.Builder} gets a
 * {@link SluiceClientHttpConnector} over the shared manager, with the settings' timeouts. SSL bundles other than
 * the manager's are refused, as in {@link SluiceClientHttpRequestFactoryBuilder}.
 *
 * <p><b>Thread-safety:</b> immutable. <b>Ownership:</b> does not own the manager.
 */
public final class SluiceClientHttpConnectorBuilder implements ClientHttpConnectorBuilder<SluiceClientHttpConnector> {

    private final ConnectionPoolManager manager;
    private final SslBundle managerBundle;

    /** Builds connectors over {@code manager}; {@code managerBundle} is the SSL bundle it was built with, or null. */
    public SluiceClientHttpConnectorBuilder(ConnectionPoolManager manager, SslBundle managerBundle) {
        this.manager = Objects.requireNonNull(manager, "manager");
        this.managerBundle = managerBundle;
    }

    @Override
    public SluiceClientHttpConnector build(HttpClientSettings settings) {
        HttpClientSettings s = settings != null ? settings : HttpClientSettings.defaults();
        SluiceSslCheck.requireManagerBundle(s.sslBundle(), managerBundle);
        return new SluiceClientHttpConnector(manager).readTimeout(s.readTimeout()).connectTimeout(s.connectTimeout());
    }
}

package io.sluice.spring.boot;

import org.springframework.boot.ssl.SslBundle;

/** The one rule the HTTP client builders share about SSL bundles. Stateless. */
final class SluiceSslCheck {

    private SluiceSslCheck() {
    }

    /**
     * A shared pool has one TLS configuration: a client asking for another bundle would silently get the wrong trust
     * or no client certificate, so it is refused with what to do instead.
     */
    static void requireManagerBundle(SslBundle requested, SslBundle managerBundle) {
        if (requested != null && requested != managerBundle) {
            throw new IllegalStateException("Sluice's HTTP clients share one connection pool and take TLS from "
                    + "sluice.tls.bundle; an HTTP client asked for another SSL bundle. Name that bundle in "
                    + "sluice.tls.bundle, or choose another client with spring.http.clients.imperative.factory / "
                    + "spring.http.clients.reactive.connector");
        }
    }
}

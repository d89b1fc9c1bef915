package io.sluice.http;

/** The TLS handshake failed; {@link #reason()} says why. Immutable. */
public final class TlsFailedException extends SluiceHttpException {

    /** Why a handshake failed. */
    public enum Reason {
        /** The peer's certificate chain is not trusted. */
        UNTRUSTED,
        /** The certificate does not cover the host name. */
        HOSTNAME_MISMATCH,
        /** The peer did not speak TLS, or no common version/cipher/ALPN protocol. */
        PROTOCOL,
        /**
         * The server refused our client certificate, or required one and got none (its alert:
         * bad_certificate, certificate_required, certificate_unknown, …). In TLS 1.3 this arrives
         * after our side of the handshake finished, before the first response.
         */
        CERTIFICATE_REFUSED,
        /** Anything else, e.g. the peer closed or reset the connection mid-handshake. */
        OTHER
    }

    private final Reason reason;

    public TlsFailedException(String route, Reason reason, String message, Throwable cause) {
        super(route, "TLS handshake failed (" + reason.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + "): "
                + message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    /**
     * A certificate or protocol problem will not go away on another attempt; a handshake that
     * broke off for another reason (the peer closed or reset the connection mid-handshake,
     * e.g. while restarting) may well succeed on the next one, so the pool retries it.
     */
    @Override
    public boolean retryable() {
        return reason == Reason.OTHER;
    }
}

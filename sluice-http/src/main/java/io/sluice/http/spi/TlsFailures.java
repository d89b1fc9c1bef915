package io.sluice.http.spi;

import io.netty.handler.ssl.NotSslRecordException;
import io.sluice.http.TlsFailedException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * Turns a TLS handshake failure into a {@link TlsFailedException} with a reason. The JDK
 * and BoringSSL report the same problems with different exception types and messages,
 * so the whole cause chain is inspected.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class TlsFailures {

    private TlsFailures() {
    }

    /** The failure as a {@link TlsFailedException} whose reason is read from the whole cause chain. */
    public static TlsFailedException classify(String route, Throwable failure) {
        TlsFailedException.Reason reason = TlsFailedException.Reason.OTHER;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (t instanceof CertificateException && (m.contains("no subject alternative") || m.contains("no name matching")
                    || m.contains("hostname") || m.contains("does not match"))) {
                reason = TlsFailedException.Reason.HOSTNAME_MISMATCH;
                break;
            }
            if (t instanceof CertPathValidatorException || t.getClass().getName().contains("CertPathBuilderException")
                    || m.contains("pkix path") || m.contains("unable to find valid certification path")
                    || m.contains("certificate_verify_failed") || m.contains("unknown_ca")) {
                reason = TlsFailedException.Reason.UNTRUSTED;
                // keep looking: a host-name mismatch deeper in the chain is the more precise answer
                continue;
            }
            if (reason == TlsFailedException.Reason.OTHER && refusedOurCertificate(m)) {
                reason = TlsFailedException.Reason.CERTIFICATE_REFUSED;
                continue;
            }
            if (reason == TlsFailedException.Reason.OTHER && (t instanceof NotSslRecordException
                    || m.contains("protocol_version") || m.contains("no cipher") || m.contains("wrong_version_number")
                    || m.contains("no_application_protocol") || m.contains("unsupported protocol")
                    || m.contains("no appropriate protocol"))) {
                reason = TlsFailedException.Reason.PROTOCOL;
            }
        }
        return new TlsFailedException(route, reason, String.valueOf(rootMessage(failure)), failure);
    }

    /**
     * Whether the message reports an alert the server sent about our certificate. BoringSSL names
     * received alerts {@code SSLV3_ALERT_…}/{@code TLSV1_ALERT_…}; the JDK says {@code Received fatal
     * alert: …}. Our own verdict on the server's certificate reads differently (certificate_verify_failed,
     * PKIX path …) and is classified before this is asked.
     */
    private static boolean refusedOurCertificate(String m) {
        boolean received = m.contains("alert_") || m.contains("received fatal alert");
        return received && (m.contains("bad_certificate") || m.contains("certificate_required")
                || m.contains("certificate_unknown") || m.contains("unsupported_certificate")
                || m.contains("certificate_revoked") || m.contains("certificate_expired"));
    }

    /** Whether a TLS failure is somewhere in the cause chain (the peer's alert, a bad record). */
    public static boolean isTlsFailure(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r == t ? t.toString() : t.getClass().getSimpleName() + ": " + r.getMessage();
    }
}

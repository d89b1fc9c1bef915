package io.sluice.http.sdk;

import io.sluice.http.SluiceHttpException;
import java.util.Locale;
import java.util.Set;

/**
 * Label values with a fixed, small set of possible values, so that no label can grow with the traffic
 * (a series per URL, per request id or per odd method would make the time series database pay for
 * every request). Shared by the metrics bindings (sluice-prometheus, sluice-micrometer), which must give the
 * same values.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class MetricLabels {

    /** Methods kept as they are; any other becomes {@code OTHER}. */
    private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS");

    /**
     * Statuses AI providers use to say something specific (rate limited, overloaded, gateway trouble),
     * kept as themselves; every other status is folded into its class ({@code 2xx}, {@code 4xx}...).
     */
    private static final Set<Integer> KEPT_STATUSES = Set.of(408, 409, 429, 500, 502, 503, 504, 529);

    /** The label of a call that got no response. */
    public static final String NO_STATUS_FAILED = "failed";
    /** The label of a call the caller cancelled before its response ended. */
    public static final String NO_STATUS_CANCELLED = "cancelled";
    /** The protocol label before a connection was leased. */
    public static final String NO_PROTOCOL = "none";

    private MetricLabels() {
    }

    public static String method(String method) {
        String m = method == null ? "" : method.toUpperCase(Locale.ROOT);
        return METHODS.contains(m) ? m : "OTHER";
    }

    public static String status(int status) {
        if (KEPT_STATUSES.contains(status)) {
            return Integer.toString(status);
        }
        if (status >= 100 && status < 600) {
            return (status / 100) + "xx";
        }
        return "other";
    }

    /**
     * {@code ConnectFailedException} → {@code connect_failed}: the exception's type, which is one of
     * the client's dozen {@link SluiceHttpException} subclasses, never its message.
     */
    public static String kind(Throwable failure) {
        if (failure == null) {
            return "unknown";
        }
        String name = failure.getClass().getSimpleName();
        if (!(failure instanceof SluiceHttpException) || name.isEmpty()) {
            return "other";
        }
        if (name.endsWith("Exception")) {
            name = name.substring(0, name.length() - "Exception".length());
        }
        StringBuilder b = new StringBuilder(name.length() + 4);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isUpperCase(c) && i > 0) {
                b.append('_');
            }
            b.append(Character.toLowerCase(c));
        }
        return b.toString();
    }
}

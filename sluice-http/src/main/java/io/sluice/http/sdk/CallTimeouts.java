package io.sluice.http.sdk;

import io.sluice.http.HttpRequest;
import java.time.Duration;

/**
 * Maps an SDK call's timeouts onto one Sluice request, with OkHttp's meaning (the SDKs' default
 * transport): "read" bounds every wait for bytes, including the wait for the response headers,
 * so it becomes the headers timeout and the body-idle timeout; "request" bounds the whole call
 * including a streamed body, so it becomes the total timeout (and caps the headers wait).
 * A zero or negative value means "no limit", as in OkHttp.
 *
 * <p>"connect" bounds how long the call may wait until it can be sent: the request's acquire timeout
 * (the wait for a pooled slot, a new connection included). Each connect attempt itself stays
 * bounded by the manager's {@code Timeouts.connect}, because connections are opened ahead of
 * requests and shared by them.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class CallTimeouts {

    /** Stands for "no limit" where Sluice needs a positive bound (headers, body idle). */
    public static final Duration UNLIMITED = Duration.ofDays(365);

    private CallTimeouts() {
    }

    /** {@link #apply(HttpRequest.Builder, Duration, Duration, Duration)} without a connect bound. */
    public static HttpRequest.Builder apply(HttpRequest.Builder b, Duration read, Duration request) {
        return apply(b, null, read, request);
    }

    /** The call's connect, read and request timeouts onto {@code b} (null or non-positive: no limit). */
    public static HttpRequest.Builder apply(HttpRequest.Builder b, Duration connect, Duration read, Duration request) {
        Duration bound = positive(connect);
        if (bound != null) {
            b.acquireTimeout(bound);
        }
        Duration total = positive(request);
        Duration idle = positive(read) != null ? read : UNLIMITED;
        Duration headers = total != null && total.compareTo(idle) < 0 ? total : idle;
        return b.headersTimeout(headers).bodyIdleTimeout(idle).totalTimeout(total);
    }

    private static Duration positive(Duration d) {
        return d == null || d.isZero() || d.isNegative() ? null : d;
    }
}

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
 * <p>Connect timeouts are per client in Sluice (the pool opens connections ahead of requests and
 * shares them), so an SDK's per-call connect timeout is not applied; the manager's
 * {@code Timeouts.connect} is.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class CallTimeouts {

    /** Stands for "no limit" where Sluice needs a positive bound (headers, body idle). */
    public static final Duration UNLIMITED = Duration.ofDays(365);

    private CallTimeouts() {
    }

    public static HttpRequest.Builder apply(HttpRequest.Builder b, Duration read, Duration request) {
        Duration total = positive(request);
        Duration idle = positive(read) != null ? read : UNLIMITED;
        Duration headers = total != null && total.compareTo(idle) < 0 ? total : idle;
        return b.headersTimeout(headers).bodyIdleTimeout(idle).totalTimeout(total);
    }

    private static Duration positive(Duration d) {
        return d == null || d.isZero() || d.isNegative() ? null : d;
    }
}

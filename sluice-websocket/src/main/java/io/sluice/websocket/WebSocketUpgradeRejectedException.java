package io.sluice.websocket;

/**
 * The server answered the WebSocket upgrade request with an HTTP status other than 101
 * (401 for a missing or wrong key, 403, 404, 429, 5xx). It is the cause of the
 * {@link io.sluice.http.SluiceHttpException} an acquire fails with: a
 * {@link io.sluice.http.ProtocolException} for statuses that will not change on a retry
 * (4xx other than 408 and 429), a {@link io.sluice.http.ConnectFailedException} otherwise.
 *
 * <p>The message carries the status and reason phrase only, never the response body
 * (providers echo parts of a wrong key there) or a request header.
 *
 * <p><b>Thread-safety:</b> immutable.
 */
public final class WebSocketUpgradeRejectedException extends RuntimeException {

    private final int status;

    public WebSocketUpgradeRejectedException(String route, int status, String reasonPhrase) {
        super(route + ": " + describe(status, reasonPhrase), null, false, false);
        this.status = status;
    }

    /** The message without the route, for the wrapping exception (which adds the route itself). */
    static String describe(int status, String reasonPhrase) {
        return "WebSocket upgrade rejected with HTTP " + status + (reasonPhrase == null ? "" : " " + reasonPhrase)
                + (status == 401 ? " (check the Authorization header or API key)" : "");
    }

    /** The HTTP status of the refusal. */
    public int status() {
        return status;
    }

    /** Whether another attempt may succeed: 408, 429 and 5xx. */
    public boolean transientStatus() {
        return status == 408 || status == 429 || status >= 500;
    }
}

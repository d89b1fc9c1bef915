package io.sluice.http;

/**
 * The proxy would not open a tunnel to the route: it refused the credentials ({@code 407},
 * SOCKS5 authentication failure), refused the target ({@code 403}, a SOCKS5 rule), or could not
 * reach it ({@code 502}, {@code 504}). {@link #status()} is the proxy's HTTP status, or -1 for
 * SOCKS5 and for a proxy that closed without answering. Immutable.
 */
public final class ProxyFailedException extends SluiceHttpException {
    private final int status;

    public ProxyFailedException(String route, String message, int status, Throwable cause) {
        super(route, message, cause);
        this.status = status;
    }

    /** The proxy's HTTP status, or -1. */
    public int status() {
        return status;
    }

    /** Credentials or policy refusals (401, 403, 407, a SOCKS5 refusal) repeat; a gateway failure may not. */
    @Override
    public boolean retryable() {
        return status >= 500;
    }
}

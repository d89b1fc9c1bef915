package io.sluice.http.spi;

import io.sluice.http.ClientClosedException;
import io.sluice.http.ConnectFailedException;
import io.sluice.http.ConnectionLostException;
import io.sluice.http.PoolExhaustedException;
import io.sluice.http.RequestTimeoutException;
import io.sluice.http.SluiceHttpException;
import io.sluice.pool.PoolClosedException;
import io.sluice.pool.PoolTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Maps what a pool's acquire fails with (timeout, exhaustion, a connect that gave up, a closed
 * pool) onto the public {@link SluiceHttpException} hierarchy, for every client built on a
 * Sluice pool: the HTTP client adds its transport failures on top, the WebSocket pool uses it
 * as is.
 *
 * <p>Stateless; thread-safe.
 */
public final class PoolFailures {
    private PoolFailures() {
    }

    /** Strips the wrappers futures add. */
    public static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * The public exception for an acquire failure on {@code route}, or null when {@code failure}
     * is not one the pool raises (the caller maps it).
     */
    public static SluiceHttpException mapOrNull(String route, Throwable failure, Duration acquireTimeout) {
        Throwable t = unwrap(failure);
        if (t instanceof SluiceHttpException s) {
            return s;
        }
        if (t instanceof PoolTimeoutException p) {
            return new RequestTimeoutException(route, RequestTimeoutException.Phase.ACQUIRE,
                    p.waited() == null ? acquireTimeout : p.waited(), p);
        }
        if (t instanceof io.sluice.pool.PoolExhaustedException p) {
            return new PoolExhaustedException(route, p.getMessage(), p);
        }
        if (t instanceof io.sluice.pool.ConnectFailedException c) {
            Throwable cause = unwrap(c.getCause());
            if (cause instanceof SluiceHttpException s) {
                return s; // TlsFailedException, RequestTimeoutException(CONNECT), ConnectFailedException
            }
            return new ConnectFailedException(route, c.getMessage(), c);
        }
        if (t instanceof PoolClosedException) {
            return new ClientClosedException(route, "the client was closed");
        }
        return null;
    }

    /** {@link #mapOrNull}, with anything else reported as a lost connection. */
    public static SluiceHttpException map(String route, Throwable failure, Duration acquireTimeout) {
        SluiceHttpException e = mapOrNull(route, failure, acquireTimeout);
        if (e != null) {
            return e;
        }
        Throwable t = unwrap(failure);
        return new ConnectionLostException(route, String.valueOf(t.getMessage()), t);
    }
}

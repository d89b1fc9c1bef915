package io.sluice.http.sdk;

import io.sluice.http.ClientClosedException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.StreamingResponse;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Starts one exchange on the shared pools and hands the SDK a future of its own, so that:
 * the future completes exactly once, when the response headers arrive, with a live body
 * stream; cancelling it cancels the exchange (and frees the slot, also when the response raced
 * the cancel); closing the transport aborts what this transport still has in flight.
 *
 * <p><b>Thread-safety:</b> stateless; safe from any thread.
 */
public final class PooledCalls {

    private PooledCalls() {
    }

    /**
     * @param wrap     builds the SDK's response from the head and the body stream (must not throw)
     * @param mapError turns any failure (unwrapped) into the SDK's exception
     */
    public static <R> CompletableFuture<R> start(ConnectionPoolManager pools, HttpRequest request, LiveExchanges live,
            BiFunction<StreamingResponse, InputStream, R> wrap, Function<Throwable, RuntimeException> mapError) {
        CompletableFuture<R> out = new CompletableFuture<>();
        String route = request.route().toString();
        if (live.closed()) {
            out.completeExceptionally(mapError.apply(closed(route)));
            return out;
        }
        CompletableFuture<StreamingResponse> pending;
        try {
            pending = pools.stream(request);
        } catch (RuntimeException e) {
            out.completeExceptionally(mapError.apply(e));
            return out;
        }
        Runnable abortPending = () -> {
            out.completeExceptionally(mapError.apply(closed(route))); // first: the cancel below completes synchronously
            pending.cancel(false);
        };
        if (!live.add(abortPending)) {
            abortPending.run();
            return out;
        }
        out.whenComplete((r, e) -> {
            if (out.isCancelled()) {
                pending.cancel(false); // Sluice cancels the exchange; a response it races with is closed there
            }
        });
        pending.whenComplete((response, failure) -> {
            live.remove(abortPending);
            if (failure != null) {
                out.completeExceptionally(mapError.apply(unwrap(failure)));
                return;
            }
            BodyAbort abort = new BodyAbort();
            ChunkInputStream body = new ChunkInputStream(response, () -> live.remove(abort));
            abort.body = body;
            if (!live.add(abort)) {
                body.close();
                out.completeExceptionally(mapError.apply(closed(route)));
                return;
            }
            if (!out.complete(wrap.apply(response, body))) {
                body.close(); // cancelled or aborted meanwhile: nobody will read it
            }
        });
        return out;
    }

    public static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static ClientClosedException closed(String route) {
        return new ClientClosedException(route, "this SDK transport was closed (the shared pools stay open)");
    }

    /** Closes a body when the transport closes; set before it is registered. */
    private static final class BodyAbort implements Runnable {
        volatile ChunkInputStream body;

        @Override
        public void run() {
            body.close();
        }
    }
}

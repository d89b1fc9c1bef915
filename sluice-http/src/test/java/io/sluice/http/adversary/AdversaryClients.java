package io.sluice.http.adversary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.sluice.http.BodyChunk;
import io.sluice.http.ConnectionLostException;
import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.StreamingResponse;
import io.sluice.http.Timeouts;
import io.sluice.http.internal.client.Errors;
import io.sluice.http.sse.SseEvent;
import io.sluice.pool.PoolConfig;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * What the adversary tests share: Sluice clients for h2c (prior knowledge) and HTTP/1.1 with
 * short, bounded timeouts; "completes within a bound" helpers that fail a hang instead of waiting
 * forever; and body readers for the streaming API.
 */
final class AdversaryClients {

    /** The longest a call may take before a test calls it a hang. Generous: not a timing assertion. */
    static final Duration BOUND = Duration.ofSeconds(15);

    private AdversaryClients() {
    }

    /** No pre-warm, no connect retries, a short acquire bound: what each test sees is its own doing. */
    static PoolConfig pool() {
        return PoolConfig.builder().minIdle(0).maxRetries(0).connectionTimeout(Duration.ofSeconds(5)).build();
    }

    /** connect 5 s, headers 10 s, body idle 5 s: every phase bounded well inside {@link #BOUND}. */
    static Timeouts timeouts() {
        return new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5), null);
    }

    static ConnectionPoolManager h2c() {
        return ConnectionPoolManager.builder().poolConfig(pool()).timeouts(timeouts()).h2cPriorKnowledge(true).build();
    }

    static ConnectionPoolManager http1() {
        return ConnectionPoolManager.builder().poolConfig(pool()).timeouts(timeouts()).build();
    }

    /** The value of {@code f} within {@link #BOUND}; a failure is thrown as the client's public exception. */
    static <T> T within(CompletableFuture<T> f) {
        try {
            return f.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return fail("did not complete within " + BOUND + ": hung");
        } catch (ExecutionException e) {
            throw Errors.map("test", e, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted");
        }
    }

    /**
     * How {@code f} ended within {@link #BOUND}: its value, or its failure unwrapped; fails the test
     * only on a hang. For tests that first check what the server saw, then what the caller got.
     */
    static Object outcome(CompletableFuture<?> f) {
        try {
            return f.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return fail("did not complete within " + BOUND + ": hung");
        } catch (ExecutionException e) {
            return Errors.unwrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted");
        }
    }

    /** Reads a streamed body to its end through {@code readChunk()}, closing every chunk. */
    static byte[] readAll(StreamingResponse r) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (;;) {
            BodyChunk c = within(r.readChunk());
            if (c == null) {
                return all.toByteArray();
            }
            try (c) {
                ByteBuffer b = c.buffer();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                all.writeBytes(bytes);
            }
        }
    }

    /** Every server-sent event to the end of the stream. */
    static List<SseEvent> readEvents(StreamingResponse r) {
        List<SseEvent> events = new ArrayList<>();
        for (SseEvent e; (e = within(r.nextEvent())) != null; ) {
            events.add(e);
        }
        return events;
    }

    /**
     * Runs {@code action}; a failure is rethrown as an assertion naming {@code what} and what the
     * server saw ({@code serverView}), so a red test says which step broke and whether the request
     * was sent again.
     */
    static <T> T during(String what, Supplier<?> serverView, Supplier<T> action) {
        try {
            return action.get();
        } catch (RuntimeException | AssertionError e) {
            throw new AssertionError(what + " failed with " + e + "; the server saw " + serverView.get(), e);
        }
    }
}

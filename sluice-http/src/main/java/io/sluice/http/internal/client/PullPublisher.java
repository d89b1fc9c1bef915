package io.sluice.http.internal.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A single-subscriber {@link Flow.Publisher} over a pull source ({@code next()} returning
 * a future of the next item, null at the end): items are pulled only while the
 * subscriber has outstanding demand, one pull at a time.
 *
 * <p>Each pulled element is mapped to the published item, handed to {@code onNext}, and
 * then given to {@code afterDelivery} (which releases the buffer behind a body chunk), so
 * a published {@code ByteBuffer} is valid exactly during {@code onNext}.
 *
 * <p><b>Thread-safety:</b> Flow-compliant: signals are serial; {@code request} and
 * {@code cancel} may be called from any thread, also re-entrantly from {@code onNext}.
 *
 * @param <T> the pulled element
 * @param <R> the published item
 */
final class PullPublisher<T, R> implements Flow.Publisher<R> {

    private final Supplier<CompletableFuture<T>> pull;
    private final Function<T, R> map;
    private final Consumer<T> afterDelivery;
    private final Runnable onCancel;
    private final AtomicBoolean subscribed = new AtomicBoolean();

    PullPublisher(Supplier<CompletableFuture<T>> pull, Function<T, R> map, Consumer<T> afterDelivery,
                  Runnable onCancel) {
        this.pull = pull;
        this.map = map;
        this.afterDelivery = afterDelivery;
        this.onCancel = onCancel;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super R> subscriber) {
        if (!subscribed.compareAndSet(false, true)) {
            subscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                }

                @Override
                public void cancel() {
                }
            });
            subscriber.onError(new IllegalStateException("the body can be subscribed to only once"));
            return;
        }
        Sub s = new Sub(subscriber);
        subscriber.onSubscribe(s);
    }

    private final class Sub implements Flow.Subscription {
        private final Flow.Subscriber<? super R> downstream;
        private final AtomicLong demand = new AtomicLong();
        private final AtomicInteger wip = new AtomicInteger();
        private volatile boolean pending;
        private volatile boolean done;

        Sub(Flow.Subscriber<? super R> downstream) {
            this.downstream = downstream;
        }

        @Override
        public void request(long n) {
            if (n <= 0) {
                cancel();
                downstream.onError(new IllegalArgumentException("request(" + n + "): demand must be positive (§3.9)"));
                return;
            }
            demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            drain();
        }

        @Override
        public void cancel() {
            if (!done) {
                done = true;
                onCancel.run();
            }
        }

        private void drain() {
            if (wip.getAndIncrement() != 0) {
                return;
            }
            int missed = 1;
            do {
                while (!done && !pending && demand.get() > 0) {
                    CompletableFuture<T> f = pull.get();
                    if (f.isDone()) {
                        handle(f);
                    } else {
                        pending = true;
                        f.whenComplete((v, e) -> {
                            handle(f);
                            pending = false;
                            drain();
                        });
                    }
                }
                missed = wip.addAndGet(-missed);
            } while (missed != 0);
        }

        private void handle(CompletableFuture<T> f) {
            T v;
            try {
                v = f.join();
            } catch (CompletionException | java.util.concurrent.CancellationException e) {
                if (!done) {
                    done = true;
                    downstream.onError(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
                }
                return;
            }
            if (v == null) {
                if (!done) {
                    done = true;
                    downstream.onComplete();
                }
                return;
            }
            try {
                if (!done) {
                    demand.decrementAndGet();
                    downstream.onNext(map.apply(v));
                }
            } catch (Throwable t) {
                cancel();
                downstream.onError(t);
            } finally {
                afterDelivery.accept(v);
            }
        }
    }
}

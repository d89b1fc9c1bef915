package io.sluice.ratelimit;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The budget of one route and one API key (by its hash): requests and tokens, and the requests waiting for
 * room, first come first served. A waiter at the head blocks those behind it even if they would fit (a
 * small request must not starve a large one).
 *
 * <p><b>Thread-safety:</b> every field is guarded by this object's monitor; futures are completed by the
 * caller after the monitor is released ({@link #admitReady}), never under it.
 */
final class Budget {

    /** One request waiting for room. */
    static final class Waiter {
        final CompletableFuture<Void> admitted = new CompletableFuture<>();
        final CallState call;
        final double tokens;
        final long since;
        /** What the fleet's shared budgets granted it (null: nothing): locally it waits only for the rest. */
        final Fleet.Held grant;
        /** Holds {@link #grant} until an attempt takes it over ({@link #take}) or its admission gives it back. */
        final AtomicReference<Fleet.Held> holder;

        Waiter(CallState call, double tokens, long since, AtomicReference<Fleet.Held> holder, Fleet.Held grant) {
            this.call = call;
            this.tokens = tokens;
            this.since = since;
            this.holder = holder;
            this.grant = grant;
        }
    }

    final String route;
    final String keyHash;
    final Dimension requests = new Dimension();
    final Dimension tokens = new Dimension();
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** The drain scheduled for when the head waiter should fit; null when none. */
    ScheduledFuture<?> timer;
    long timerDueNanos;

    Budget(String route, String keyHash) {
        this.route = route;
        this.keyHash = keyHash;
    }

    /** Whether the fleet granted the request (null: no grant): then only the local tokens are checked. */
    static boolean requestGranted(Fleet.Held grant) {
        return grant != null && grant.request();
    }

    /** Whether the fleet granted the tokens (null: no grant): then the local token budget is not checked. */
    static boolean tokensGranted(Fleet.Held grant) {
        return grant != null && grant.tokens() > 0;
    }

    /**
     * Whether an attempt costing {@code tokenCost} fits now and nobody waits before it; what the fleet's shared
     * budgets granted ({@code grant}, or null) is not checked again here.
     */
    boolean fitsNow(double tokenCost, long now, Fleet.Held grant) {
        return waiters.isEmpty() && (requestGranted(grant) || requests.fits(1, now))
                && (tokensGranted(grant) || tokens.fits(tokenCost, now));
    }

    /**
     * Takes room for one attempt (in flight until answered, unless nothing will tell this call's outcome); the
     * attempt takes over what {@code holder} (null: nothing) holds of the fleet's budgets, unless its admission
     * already gave that back.
     */
    void take(CallState call, double tokenCost, AtomicReference<Fleet.Held> holder) {
        Fleet.Held held = holder == null ? null : holder.getAndSet(null);
        if (call.tracked) {
            call.fleetHeld = held;
            requests.take(1);
            tokens.take(tokenCost);
            call.tookRoom();
        } else {
            requests.spend(1);
            tokens.spend(tokenCost);
        }
    }

    /**
     * Nanoseconds until an attempt costing {@code tokenCost} fits (behind the waiters already queued, as far as
     * the refill rates tell); -1 when only a response can make room.
     */
    long nanosUntilRoom(double tokenCost, long now, Fleet.Held grant) {
        // The whole queue ahead counts, beyond one window: each request is capped at the limit, the total is not.
        double reqAhead = 1 + waiters.size();
        double tokAhead = tokens.capped(tokenCost);
        for (Waiter w : waiters) {
            tokAhead += tokens.capped(w.tokens);
        }
        long r = requestGranted(grant) ? 0 : requests.nanosUntilTotal(reqAhead, now);
        long t = tokensGranted(grant) ? 0 : tokens.nanosUntilTotal(tokAhead, now);
        return r < 0 || t < 0 ? -1 : Math.max(r, t);
    }

    /** Nanoseconds until waiter {@code w} fits, ignoring the queue; -1 when only a response can make room. */
    long nanosUntilFits(Waiter w, long now) {
        long r = requestGranted(w.grant) ? 0 : requests.nanosUntil(1, now);
        long t = tokensGranted(w.grant) ? 0 : tokens.nanosUntil(w.tokens, now);
        return r < 0 || t < 0 ? -1 : Math.max(r, t);
    }

    /** Which dimension keeps an attempt out now: {@code requests} or {@code tokens}. */
    String blockedBy(double tokenCost, long now, Fleet.Held grant) {
        return !requestGranted(grant) && !requests.fits(1 + waiters.size(), now) ? "requests"
                : tokens.known() ? "tokens" : "requests";
    }

    /** Removes the head waiters that fit now, taking their room; the caller completes them outside the monitor. */
    List<Waiter> admitReady(long now) {
        List<Waiter> ready = null;
        while (!waiters.isEmpty()) {
            Waiter w = waiters.peek();
            if (w.admitted.isDone()) { // cancelled (deadline, caller): it leaves the queue
                waiters.poll();
                continue;
            }
            if (!((requestGranted(w.grant) || requests.fits(1, now)) && (tokensGranted(w.grant) || tokens.fits(w.tokens, now)))) {
                break;
            }
            waiters.poll();
            take(w.call, w.tokens, w.holder);
            if (ready == null) {
                ready = new ArrayList<>();
            }
            ready.add(w);
        }
        return ready == null ? List.of() : ready;
    }

    /**
     * The head waiter cannot be admitted and the budget does not refill on its own (no reset announced) with
     * nothing in flight to bring a response: admit it anyway as a probe, whose response tells the truth.
     */
    Waiter probeIfStuck() {
        Waiter w = waiters.peek();
        if (w == null || requests.inFlight() > 0) {
            return null;
        }
        waiters.poll();
        take(w.call, w.tokens, w.holder);
        return w;
    }
}

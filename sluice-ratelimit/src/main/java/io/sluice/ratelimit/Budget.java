package io.sluice.ratelimit;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

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
        /** Its request was granted by the fleet's shared budget: locally it waits for tokens only. */
        final boolean byFleet;

        Waiter(CallState call, double tokens, long since, boolean byFleet) {
            this.call = call;
            this.tokens = tokens;
            this.since = since;
            this.byFleet = byFleet;
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

    /**
     * Whether an attempt costing {@code tokenCost} fits now and nobody waits before it; {@code byFleet}: its
     * request was granted by the fleet's shared budget, only the tokens are checked here.
     */
    boolean fitsNow(double tokenCost, long now, boolean byFleet) {
        return waiters.isEmpty() && (byFleet || requests.fits(1, now)) && tokens.fits(tokenCost, now);
    }

    /** Takes room for one attempt (in flight until answered, unless nothing will tell this call's outcome). */
    void take(CallState call, double tokenCost) {
        if (call.tracked) {
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
    long nanosUntilRoom(double tokenCost, long now, boolean byFleet) {
        // The whole queue ahead counts, beyond one window: each request is capped at the limit, the total is not.
        double reqAhead = 1 + waiters.size();
        double tokAhead = tokens.capped(tokenCost);
        for (Waiter w : waiters) {
            tokAhead += tokens.capped(w.tokens);
        }
        long r = byFleet ? 0 : requests.nanosUntilTotal(reqAhead, now);
        long t = tokens.nanosUntilTotal(tokAhead, now);
        return r < 0 || t < 0 ? -1 : Math.max(r, t);
    }

    /** Nanoseconds until waiter {@code w} fits, ignoring the queue; -1 when only a response can make room. */
    long nanosUntilFits(Waiter w, long now) {
        long r = w.byFleet ? 0 : requests.nanosUntil(1, now);
        long t = tokens.nanosUntil(w.tokens, now);
        return r < 0 || t < 0 ? -1 : Math.max(r, t);
    }

    /** Which dimension keeps an attempt out now: {@code requests} or {@code tokens}. */
    String blockedBy(double tokenCost, long now, boolean byFleet) {
        return !byFleet && !requests.fits(1 + waiters.size(), now) ? "requests" : tokens.known() ? "tokens" : "requests";
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
            if (!((w.byFleet || requests.fits(1, now)) && tokens.fits(w.tokens, now))) {
                break;
            }
            waiters.poll();
            take(w.call, w.tokens);
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
        take(w.call, w.tokens);
        return w;
    }
}

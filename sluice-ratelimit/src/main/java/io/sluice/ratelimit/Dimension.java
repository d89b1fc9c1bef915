package io.sluice.ratelimit;

/**
 * One budget dimension (requests, or tokens) of one route and key, as the client estimates it between
 * responses. Unknown until a response announces it: then every request fits. The server's figures
 * replace the estimate at each response; between them the budget refills linearly so that it is full
 * at the announced reset (providers describe their limits as continuously replenishing buckets).
 *
 * <p><b>Thread-safety:</b> not thread-safe; guarded by its {@link Budget}'s monitor.
 */
final class Dimension {

    private boolean known;
    /** Units available now (may go below 0 when more was admitted than announced). */
    private double available;
    private double limit = Double.POSITIVE_INFINITY;
    /** Units per nanosecond the budget refills at; 0 when the server did not say when it resets. */
    private double ratePerNano;
    private long updatedNanos;
    /** Nothing refills before this (a 429's retry-after). */
    private long blockedUntilNanos;
    /**
     * A windowed quota (the IETF draft's fields): nothing refills before this instant, then the whole limit comes back
     * at once; 0 for a continuously replenished budget, or once the step was taken (until a response says more).
     */
    private long stepAtNanos;
    /** Units admitted and not yet answered by a response (the server has not counted them yet). */
    private double inFlight;
    /**
     * A lower bound of the refill rate, for the fleet's shared bucket (0: none yet): {@link #ratePerNano} follows
     * each response, errors included, because the next response corrects it; a shared bucket is configured once and
     * must not refill faster than the provider's.
     */
    private double fleetRatePerNano;
    /** The units used (limit - remaining) of the response that gave {@link #fleetRatePerNano}: its precision. */
    private double fleetBasis;

    boolean known() {
        return known;
    }

    private void refill(long now) {
        if (stepAtNanos > 0 && now >= stepAtNanos) {
            // the window reset: the whole quota, less what is on its way (it may count in the new window)
            available = Math.max(available, limit - inFlight);
            stepAtNanos = 0;
        }
        if (now <= blockedUntilNanos) {
            updatedNanos = now;
            return;
        }
        long from = Math.max(updatedNanos, blockedUntilNanos);
        if (now > from && ratePerNano > 0) {
            available = Math.min(limit, available + ratePerNano * (now - from));
        }
        updatedNanos = now;
    }

    /** Whether {@code units} fit now. */
    boolean fits(double units, long now) {
        if (!known) {
            return true;
        }
        refill(now);
        return now >= blockedUntilNanos && available >= Math.min(units, limit);
    }

    /** Takes {@code units} for an attempt about to be sent. */
    void take(double units) {
        inFlight += units;
        if (known) {
            available -= units;
        }
    }

    /** Spends {@code units} without holding them in flight (an admission whose outcome nobody will report). */
    void spend(double units) {
        if (known) {
            available -= units;
        }
    }

    /** A response answered an attempt that took {@code units}: the server has counted it now. */
    void answered(double units) {
        inFlight = Math.max(0, inFlight - units);
    }

    /** An admitted attempt was never sent: its units come back. */
    void giveBack(double units) {
        inFlight = Math.max(0, inFlight - units);
        if (known) {
            available = Math.min(limit, available + units);
        }
    }

    /**
     * A response's figures: {@code remaining} of {@code limit} (-1: not said), full again at
     * {@code resetNanos} (0: not said). What is still in flight was not counted by the server yet.
     */
    void observe(long limit, long remaining, long resetNanos, long now) {
        observe(limit, remaining, resetNanos, now, false);
    }

    /**
     * As {@link #observe(long, long, long, long)}; {@code windowed}: the figures are a quota that comes back whole at
     * its reset, nothing before (see {@link RateLimitSnapshot#requestWindowed()}).
     */
    void observe(long limit, long remaining, long resetNanos, long now, boolean windowed) {
        if (remaining < 0) {
            return;
        }
        known = true;
        if (limit > 0) {
            if (limit != this.limit) {
                fleetRatePerNano = 0; // a new limit: its rate is learned anew
                fleetBasis = 0;
            }
            this.limit = limit;
        }
        available = remaining - inFlight;
        updatedNanos = now;
        stepAtNanos = 0;
        if (windowed) {
            ratePerNano = 0; // nothing comes back bit by bit; the shared (fleet) bucket, which does, stays out of it
            if (resetNanos > now && this.limit != Double.POSITIVE_INFINITY) {
                stepAtNanos = resetNanos;
            } else if (resetNanos > 0 && resetNanos <= now && this.limit != Double.POSITIVE_INFINITY) {
                available = this.limit - inFlight; // reset passed
            }
            return;
        }
        if (resetNanos > now && this.limit != Double.POSITIVE_INFINITY) {
            ratePerNano = Math.max(0, this.limit - remaining) / (double) (resetNanos - now);
            learnFleetRate(this.limit - remaining, resetNanos - now);
        } else if (resetNanos > 0 && resetNanos <= now) {
            available = this.limit == Double.POSITIVE_INFINITY ? available : this.limit - inFlight; // reset passed
        }
    }

    /**
     * A provider announces whole units: {@code remaining} rounded (down, or to the nearest), {@code reset} rounded
     * up. From {@code used} = limit - remaining, the units really used lie within one of it, and the rate is at least
     * (used - 1) / reset: a bound that holds whatever the rounding, and tightens as more of the budget is used (at
     * 2 used it is half the truth at worst, at 100 within 1 %). With 1 used nothing is bounded (0.05 used shows as
     * 1): the first such figure gives a provisional rate, the figure's own, which the first figure with 2 or more
     * used replaces (under load, the next response or so). A bound is kept only when {@code used} at least doubled
     * since the last one, so the shared bucket is reconfigured a few times per limit, not at every response.
     */
    private void learnFleetRate(double used, long resetNanos) {
        if (used < 1 || (fleetBasis > 0 && used < 2 * fleetBasis)) {
            return;
        }
        fleetBasis = used;
        fleetRatePerNano = used < 2 ? used / (double) resetNanos : (used - 1) / (double) resetNanos;
    }

    /**
     * A refill rate that is not above the provider's once a figure with 2 or more used was seen (see
     * {@link #learnFleetRate}); 0 when unknown.
     */
    double fleetRatePerNano() {
        return fleetRatePerNano;
    }

    /** A 429: nothing is left, and nothing refills for {@code blockNanos}. */
    void exhausted(long blockNanos, long now) {
        known = true;
        available = Math.min(available, 0);
        updatedNanos = now;
        long until = blockNanos > Long.MAX_VALUE / 2 ? now + Long.MAX_VALUE / 2 : now + blockNanos; // no overflow
        blockedUntilNanos = Math.max(blockedUntilNanos, until);
    }

    /**
     * Nanoseconds until {@code units} fit, or -1 when the budget does not refill on its own (no reset was
     * announced): then only a response can make room.
     */
    long nanosUntil(double units, long now) {
        return nanosUntilTotal(Math.min(units, limit), now);
    }

    /**
     * Nanoseconds until {@code total} units are available: a queue's total (each request already capped at the
     * limit by the caller) may exceed the limit, and its wait is then longer than one window. Saturates rather than
     * overflows. -1 when only a response can make room.
     */
    long nanosUntilTotal(double total, long now) {
        if (!known) {
            return 0;
        }
        refill(now);
        double need = total - available;
        long blocked = Math.max(0, blockedUntilNanos - now);
        if (need <= 0) {
            return blocked;
        }
        if (stepAtNanos > now && total <= limit - inFlight) {
            return Math.max(blocked, stepAtNanos - now); // a windowed quota: all of it at the reset
        }
        if (ratePerNano <= 0) {
            return blocked > 0 ? blocked : -1; // after a 429's block a probe finds out; else only a response can tell
        }
        double wait = Math.ceil(need / ratePerNano);
        return wait >= Long.MAX_VALUE - blocked ? Long.MAX_VALUE : blocked + (long) wait;
    }

    /** {@code units}, or the limit when larger: one request never needs more than the whole budget. */
    double capped(double units) {
        return Math.min(units, limit);
    }

    /** The estimate now (for stats); NaN when unknown. */
    double available(long now) {
        if (!known) {
            return Double.NaN;
        }
        refill(now);
        return available;
    }

    /** The announced limit per window; infinite until announced. */
    double limit() {
        return limit;
    }

    /** Units per nanosecond the budget refills at, as the last responses told; 0 when unknown. */
    double ratePerNano() {
        return ratePerNano;
    }

    double inFlight() {
        return inFlight;
    }
}

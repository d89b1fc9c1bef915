package io.sluice.ratelimit;

/**
 * What one call took from its budget, attempt by attempt: attempts admitted and not yet on the wire, attempts
 * sent and not yet answered, and the token estimate each took; so that a response, the call's end, or an
 * attempt that never counted at the server settles exactly what was taken, once.
 *
 * <ul>
 *   <li>admitted → sent ({@link #sending}, the call's {@code requestSending}) → answered ({@link #answered},
 *   a response head): the server counted it, it leaves the in-flight count;</li>
 *   <li>admitted or sent, then {@link #abandon} (never sent, or provably never processed): its room comes back;</li>
 *   <li>{@link #ended}: what is still admitted-but-unsent comes back; what was sent and not answered leaves the
 *   in-flight count (the server may have counted it).</li>
 * </ul>
 *
 * <p><b>Thread-safety:</b> guarded by the monitor of {@link #budget}.
 */
final class CallState {

    final Budget budget;
    final double tokenCost;
    /** False for an admission outside a call's own admission object: nothing tells it the outcome, so it holds nothing in flight. */
    final boolean tracked;
    /** Attempts admitted, not yet on the wire. */
    int admitted;
    /** Attempts on the wire, not yet answered by a response head. */
    int unanswered;
    /** What the last admitted attempt holds of the fleet's shared budgets (given back if it never counted); or null. */
    Fleet.Held fleetHeld;

    CallState(Budget budget, double tokenCost, boolean tracked) {
        this.budget = budget;
        this.tokenCost = tokenCost;
        this.tracked = tracked;
    }

    /** Room was taken for an attempt ({@link Budget#take}). */
    void tookRoom() {
        admitted++;
    }

    /** An admitted attempt is being written: from now on the server may count it. */
    void sending() {
        if (admitted > 0) {
            admitted--;
            unanswered++;
            // the grant stays with the attempt until it is answered: one refused or never processed is abandoned
            // (REFUSED_STREAM, a GOAWAY below it, a connection found closed) and its grant goes back
        }
    }

    /** A response head answered one attempt: the server counted it. */
    void answered() {
        if (unanswered > 0) {
            unanswered--;
            budget.requests.answered(1);
            budget.tokens.answered(tokenCost);
            fleetHeld = null; // the server counted it: the shared room is used
        }
    }

    /**
     * An attempt did not count at the server (never sent, or never processed): its room comes back. Returns what it
     * held of the fleet's budgets, to give back (or null).
     */
    Fleet.Held abandon() {
        if (admitted > 0) {
            admitted--;
        } else if (unanswered > 0) {
            unanswered--;
        } else {
            return null;
        }
        budget.requests.giveBack(1);
        budget.tokens.giveBack(tokenCost);
        Fleet.Held fleet = fleetHeld;
        fleetHeld = null;
        return fleet;
    }

    /**
     * The call ended: attempts admitted but never sent give their room back; sent ones leave the in-flight count.
     * Returns what is to be given back to the fleet's budgets (or null).
     */
    Fleet.Held ended() {
        Fleet.Held fleet = null;
        while (admitted > 0) {
            admitted--;
            budget.requests.giveBack(1);
            budget.tokens.giveBack(tokenCost);
            if (fleetHeld != null) {
                fleet = fleetHeld;
                fleetHeld = null;
            }
        }
        while (unanswered > 0) {
            unanswered--;
            budget.requests.answered(1);
            budget.tokens.answered(tokenCost);
        }
        fleetHeld = null; // sent and unanswered: the server may have counted it, the shared room stays spent
        return fleet;
    }
}

package io.sluice.ratelimit;

/**
 * What one call took from its budget: the attempts admitted and not yet answered, and the token estimate
 * each took, so that a response, a failure or an attempt never sent gives back exactly what was taken.
 *
 * <p><b>Thread-safety:</b> guarded by the monitor of {@link #budget}.
 */
final class CallState {

    final Budget budget;
    final double tokenCost;
    /** Attempts admitted and sent, not yet answered by a response head. */
    int unanswered;
    /** The last admitted attempt holds a request of the fleet's shared budget (given back if never sent). */
    boolean fleetTaken;

    CallState(Budget budget, double tokenCost) {
        this.budget = budget;
        this.tokenCost = tokenCost;
    }

    void sent(double tokens) {
        unanswered++;
    }

    /** A response head answered one attempt: the server counted it. */
    void answered() {
        if (unanswered > 0) {
            unanswered--;
            budget.requests.answered(1);
            budget.tokens.answered(tokenCost);
        }
    }

    /** The call ended: what is still unanswered leaves the in-flight count (the server may have counted it). */
    void ended() {
        while (unanswered > 0) {
            unanswered--;
            budget.requests.answered(1);
            budget.tokens.answered(tokenCost);
        }
    }

    /** The last admitted attempt was never sent: its room comes back. */
    void notSent() {
        if (unanswered > 0) {
            unanswered--;
            budget.requests.giveBack(1);
            budget.tokens.giveBack(tokenCost);
        }
    }
}

package io.sluice.testkit.adversary;

import java.io.IOException;

/** One step of an {@link Http1Script}: a name for messages and an action on the exchange. Immutable. */
record Http1Step(String name, Action action) {

    /** What the step does; runs on the connection's thread and may block (a pause, a body read). */
    @FunctionalInterface
    interface Action {
        void run(Http1Exchange exchange) throws IOException, InterruptedException;
    }

    @Override
    public String toString() {
        return name;
    }
}

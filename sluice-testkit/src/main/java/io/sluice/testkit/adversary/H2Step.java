package io.sluice.testkit.adversary;

/**
 * One step of an {@link H2Script}: a name for messages and an action on the running stream.
 * The action either finishes at once and calls {@link H2StreamRun#next()}, or arranges for it
 * to be called later (a pause, a wait for the request body). Immutable.
 */
record H2Step(String name, Action action) {

    /** What the step does; runs on the connection's event loop. */
    @FunctionalInterface
    interface Action {
        void run(H2StreamRun run);
    }

    @Override
    public String toString() {
        return name;
    }
}

package io.sluice.bench.compare;

/**
 * One HTTP client under test, configured as its own documentation recommends for throughput
 * (each implementation says how in its class comment). Every implementation sends the same
 * workload: {@code POST /v1/chat/completions} with {@link Workload#BODY}, reads the whole answer
 * and reports its status and size.
 *
 * <p>Thread-safety: {@link #send} is called from many threads at once, including from inside
 * another request's completion callback.
 */
interface Peer extends AutoCloseable {

    /** Called exactly once per {@link #send}, on whatever thread the client completes on. */
    interface Done {
        void complete(int status, int bodyBytes, Throwable error);
    }

    /**
     * Sends one request asynchronously.
     *
     * @param delayMs when positive, the request carries {@code x-mock-delay-ms} (the mock answers
     *                that late); the memory mode uses it to hold connections busy while more open
     */
    void send(long delayMs, Done done);

    /** The protocol this peer is set up to speak: {@code h2} or {@code http/1.1}. */
    String protocol();

    /**
     * The concurrency this peer runs the throughput workload at, given the requested one. Only the
     * JDK client lowers it (it fails streams above the server's limit instead of queueing them).
     */
    default int concurrency(int requested) {
        return requested;
    }

    /** A one-line description of how the peer is configured, for the report. */
    String describe();

    @Override
    void close() throws Exception;
}

package io.sluice.cli.bench;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The sizes and switches of one bench run. {@link #defaults()} is the full run (under two minutes on
 * two idle cores), {@link #quickDefaults()} the short one (about 30 s on two idle cores, measured with
 * {@code time ./sluice bench --quick}); tests shrink further with the withers.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param url                 a server to run against, or null for the embedded mock provider
 * @param cacert              extra trusted certificate (PEM file) for {@code url}, or null
 * @param insecure            trust any certificate for {@code url}
 * @param quick               the short run (the native-memory step is skipped)
 * @param requests            phase 3: requests at steady load
 * @param concurrency         phase 3: requests in flight
 * @param tlsFullSamples      phase 1: full handshakes (new connections of one warm client, session cache cleared)
 * @param tlsResumedSamples   phase 1: resumed handshakes (new connections of the same client)
 * @param memoryConnections   phase 2: idle pooled connections measured (the seed's 100)
 * @param nativeLow           phase 2: connections open at the first RSS reading (also a heap step under --quick;
 *                            0 = neither)
 * @param nativeHigh          phase 2: connections open at the second RSS reading (ignored under --quick)
 * @param streams             phase 4: concurrent streaming chat completions
 * @param streamConnections   phase 4: pool limit (connections)
 * @param streamTokens        phase 4: tokens per stream
 * @param streamTokenDelayMs  phase 4: delay between tokens (keeps the streams open at once)
 * @param scalerInterval      phase 5: the adaptive scaler's evaluation interval (the seed's is 10 s)
 * @param scalingBurst        phase 5: how long the burst lasts
 * @param scalingIdle         phase 5: how long the idle spell lasts
 * @param healthDuration      phase 6: how long the load runs while the mock injects faults
 * @param progress            print the live progress line on stderr
 * @param hundredK            also run the 100 000-stream phase ({@link HundredKPhase}); not in the default run
 * @param rateLimits          also run the shared-rate-limit phase ({@link RateLimitPhase}); not in the default run
 */
public record BenchOptions(URI url, Path cacert, boolean insecure, boolean quick, int requests, int concurrency,
        int tlsFullSamples, int tlsResumedSamples, int memoryConnections, int nativeLow, int nativeHigh, int streams,
        int streamConnections, int streamTokens, int streamTokenDelayMs, Duration scalerInterval,
        Duration scalingBurst, Duration scalingIdle, Duration healthDuration, boolean progress, boolean hundredK,
        boolean rateLimits) {

    // Constants, so that the command's help text (annotation values) is built from the same numbers.
    public static final int FULL_REQUESTS = 20_000;
    public static final int QUICK_REQUESTS = 3_000;
    public static final int CONCURRENCY = 64;
    public static final int STREAMS = 10_000;
    public static final int FULL_STREAM_TOKENS = 16;
    public static final int QUICK_STREAM_TOKENS = 2;
    public static final int FULL_TLS_SAMPLES = 200;
    public static final int QUICK_TLS_SAMPLES = 30;
    public static final int FULL_SPELL_SECONDS = 6;
    public static final int QUICK_SPELL_SECONDS = 3;
    /** What {@code --quick} does, for its help text; the numbers are {@link #quickDefaults()}'s. */
    public static final String QUICK_SUMMARY = QUICK_REQUESTS + " requests at steady load, " + QUICK_TLS_SAMPLES
            + " + " + QUICK_TLS_SAMPLES + " handshakes, the heap and direct memory of 100 connections (no native step), "
            + STREAMS + " streams of " + QUICK_STREAM_TOKENS + " tokens, " + QUICK_SPELL_SECONDS + " s burst + "
            + QUICK_SPELL_SECONDS + " s idle for the scaler, " + QUICK_SPELL_SECONDS + " s of faults";

    /** The full run. */
    public static BenchOptions defaults() {
        return new BenchOptions(null, null, false, false, FULL_REQUESTS, CONCURRENCY, FULL_TLS_SAMPLES,
                FULL_TLS_SAMPLES, 100, 1000, 5000, STREAMS, 100, FULL_STREAM_TOKENS, 50, Duration.ofSeconds(1),
                Duration.ofSeconds(FULL_SPELL_SECONDS), Duration.ofSeconds(FULL_SPELL_SECONDS),
                Duration.ofSeconds(FULL_SPELL_SECONDS), true, false, false);
    }

    /**
     * The short run: 3 000 requests at steady load, 30 + 30 handshakes, the memory step of 100 connections only
     * (no native step), 10 000 streams of two tokens, 3 s of burst and 3 s of idle for the scaler,
     * 3 s of faults (in 2 s the kill, GOAWAY and kill came 0.5 s apart and used up some requests' replays).
     */
    public static BenchOptions quickDefaults() {
        return new BenchOptions(null, null, false, true, QUICK_REQUESTS, CONCURRENCY, QUICK_TLS_SAMPLES,
                QUICK_TLS_SAMPLES, 100, 0, 0, STREAMS, 100, QUICK_STREAM_TOKENS, 50, Duration.ofSeconds(1),
                Duration.ofSeconds(QUICK_SPELL_SECONDS), Duration.ofSeconds(QUICK_SPELL_SECONDS),
                Duration.ofSeconds(QUICK_SPELL_SECONDS), true, false, false);
    }

    public BenchOptions withUrl(URI u, Path ca, boolean insec) {
        return new BenchOptions(u, ca, insec, quick, requests, concurrency, tlsFullSamples, tlsResumedSamples,
                memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens, streamTokenDelayMs,
                scalerInterval, scalingBurst, scalingIdle, healthDuration, progress, hundredK, rateLimits);
    }

    public BenchOptions withLoad(int n, int c) {
        return new BenchOptions(url, cacert, insecure, quick, n, c, tlsFullSamples, tlsResumedSamples,
                memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens, streamTokenDelayMs,
                scalerInterval, scalingBurst, scalingIdle, healthDuration, progress, hundredK, rateLimits);
    }

    public BenchOptions withTls(int full, int resumed) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, full, resumed,
                memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens, streamTokenDelayMs,
                scalerInterval, scalingBurst, scalingIdle, healthDuration, progress, hundredK, rateLimits);
    }

    public BenchOptions withMemory(int connections, int low, int high) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, connections, low, high, streams, streamConnections, streamTokens,
                streamTokenDelayMs, scalerInterval, scalingBurst, scalingIdle, healthDuration, progress, hundredK, rateLimits);
    }

    public BenchOptions withStreams(int n, int connections, int tokens, int tokenDelayMs) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, memoryConnections, nativeLow, nativeHigh, n, connections, tokens, tokenDelayMs,
                scalerInterval, scalingBurst, scalingIdle, healthDuration, progress, hundredK, rateLimits);
    }

    public BenchOptions withScaling(Duration interval, Duration burst, Duration idle) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens,
                streamTokenDelayMs, interval, burst, idle, healthDuration, progress, hundredK, rateLimits);
    }

    public BenchOptions withHealth(Duration d) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens,
                streamTokenDelayMs, scalerInterval, scalingBurst, scalingIdle, d, progress, hundredK, rateLimits);
    }

    public BenchOptions withProgress(boolean on) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens,
                streamTokenDelayMs, scalerInterval, scalingBurst, scalingIdle, healthDuration, on, hundredK, rateLimits);
    }

    public BenchOptions withHundredK(boolean on) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens,
                streamTokenDelayMs, scalerInterval, scalingBurst, scalingIdle, healthDuration, progress, on, rateLimits);
    }

    public BenchOptions withRateLimits(boolean on) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens,
                streamTokenDelayMs, scalerInterval, scalingBurst, scalingIdle, healthDuration, progress, hundredK, on);
    }

    /** Whether the run uses the embedded mock provider (no {@code --url}). */
    public boolean embedded() {
        return url == null;
    }
}

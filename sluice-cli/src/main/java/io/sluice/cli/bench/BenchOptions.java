package io.sluice.cli.bench;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The sizes and switches of one bench run. {@link #defaults()} is the full run (under two minutes on
 * two cores), {@link #quickDefaults()} the short one (under 30 s); tests shrink further with the withers.
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
 */
public record BenchOptions(URI url, Path cacert, boolean insecure, boolean quick, int requests, int concurrency,
        int tlsFullSamples, int tlsResumedSamples, int memoryConnections, int nativeLow, int nativeHigh, int streams,
        int streamConnections, int streamTokens, int streamTokenDelayMs, Duration scalerInterval,
        Duration scalingBurst, Duration scalingIdle, Duration healthDuration, boolean progress) {

    /** The full run. */
    public static BenchOptions defaults() {
        return new BenchOptions(null, null, false, false, 20_000, 64, 200, 200, 100, 1000, 5000, 10_000, 100, 16, 50,
                Duration.ofSeconds(1), Duration.ofSeconds(6), Duration.ofSeconds(6), Duration.ofSeconds(6), true);
    }

    /**
     * The short run: 3 000 requests at steady load, 30 + 30 handshakes, the memory step of 100 connections only
     * (no native step), 10 000 streams of two tokens, 3 s of burst and 3 s of idle for the scaler,
     * 3 s of faults (in 2 s the kill, GOAWAY and kill came 0.5 s apart and used up some requests' replays).
     */
    public static BenchOptions quickDefaults() {
        return new BenchOptions(null, null, false, true, 3_000, 64, 30, 30, 100, 0, 0, 10_000, 100, 2, 50,
                Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(3), true);
    }

    public BenchOptions withUrl(URI u, Path ca, boolean insec) {
        return new BenchOptions(u, ca, insec, quick, requests, concurrency, tlsFullSamples, tlsResumedSamples,
                memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens, streamTokenDelayMs,
                scalerInterval, scalingBurst, scalingIdle, healthDuration, progress);
    }

    public BenchOptions withLoad(int n, int c) {
        return new BenchOptions(url, cacert, insecure, quick, n, c, tlsFullSamples, tlsResumedSamples,
                memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens, streamTokenDelayMs,
                scalerInterval, scalingBurst, scalingIdle, healthDuration, progress);
    }

    public BenchOptions withTls(int full, int resumed) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, full, resumed,
                memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens, streamTokenDelayMs,
                scalerInterval, scalingBurst, scalingIdle, healthDuration, progress);
    }

    public BenchOptions withMemory(int connections, int low, int high) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, connections, low, high, streams, streamConnections, streamTokens,
                streamTokenDelayMs, scalerInterval, scalingBurst, scalingIdle, healthDuration, progress);
    }

    public BenchOptions withStreams(int n, int connections, int tokens, int tokenDelayMs) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, memoryConnections, nativeLow, nativeHigh, n, connections, tokens, tokenDelayMs,
                scalerInterval, scalingBurst, scalingIdle, healthDuration, progress);
    }

    public BenchOptions withScaling(Duration interval, Duration burst, Duration idle) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens,
                streamTokenDelayMs, interval, burst, idle, healthDuration, progress);
    }

    public BenchOptions withHealth(Duration d) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens,
                streamTokenDelayMs, scalerInterval, scalingBurst, scalingIdle, d, progress);
    }

    public BenchOptions withProgress(boolean on) {
        return new BenchOptions(url, cacert, insecure, quick, requests, concurrency, tlsFullSamples,
                tlsResumedSamples, memoryConnections, nativeLow, nativeHigh, streams, streamConnections, streamTokens,
                streamTokenDelayMs, scalerInterval, scalingBurst, scalingIdle, healthDuration, on);
    }

    /** Whether the run uses the embedded mock provider (no {@code --url}). */
    public boolean embedded() {
        return url == null;
    }
}

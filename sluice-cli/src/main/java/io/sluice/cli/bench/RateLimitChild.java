package io.sluice.cli.bench;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.http.HttpResponse;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.ratelimit.RateLimitStats;
import io.sluice.ratelimit.RateLimiter;
import io.sluice.ratelimit.RedisBudgets;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * One client process of the {@link RateLimitPhase}: sends chat completions with the shared API key as fast as
 * its lanes allow, in one of three modes ({@code none}: no limiter; {@code local}: a {@link RateLimiter} of its
 * own; {@code fleet}: a limiter sharing its budget through Redis), and counts per window the responses 2xx, 429
 * and anything else, by the time each completed.
 *
 * <p>Arguments: {@code --url <https base> --cacert <pem file> --key <api key> --mode none|local|fleet
 * [--redis <uri> --prefix <key prefix>] --in-flight <n> --window-ms <ms> --windows <n>}. Protocol on stdout:
 * {@code ready} once its connection is open (and, in fleet mode, Redis answers); then it reads {@code go
 * <epoch ms>} on stdin, starts at that instant, stops sending {@code windows × window} later and prints one
 * {@code window <i> ok=<n> r429=<n> other=<n>} per window, {@code stats …}, maybe {@code sample-error …}, then
 * {@code done} (or {@code error <message>}). Status retries are off, so every 429 is counted, not retried.
 *
 * <p><b>Thread-safety:</b> a program; each lane is a thread with one request outstanding at a time.
 */
public final class RateLimitChild {
    static final String PATH = "/v1/chat/completions";
    static final String BODY = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private RateLimitChild() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try {
            run(args, out); // prints "done" itself, before it closes the client
        } catch (Throwable t) {
            out.println("error " + String.valueOf(t).replace('\n', ' '));
            t.printStackTrace();
        }
        out.flush();
        System.exit(0);
    }

    private static void run(String[] args, PrintStream out) throws Exception {
        URI url = null;
        Path cacert = null;
        String key = null;
        String mode = null;
        String redis = null;
        String prefix = "sluice:bench:";
        int inFlight = 16;
        long windowMs = 10_000;
        int windows = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--url" -> url = URI.create(args[++i]);
                case "--cacert" -> cacert = Path.of(args[++i]);
                case "--key" -> key = args[++i];
                case "--mode" -> mode = args[++i];
                case "--redis" -> redis = args[++i];
                case "--prefix" -> prefix = args[++i];
                case "--in-flight" -> inFlight = Integer.parseInt(args[++i]);
                case "--window-ms" -> windowMs = Long.parseLong(args[++i]);
                case "--windows" -> windows = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (url == null || cacert == null || key == null || mode == null) {
            throw new IllegalArgumentException("--url, --cacert, --key and --mode are required");
        }
        RateLimiter limits = switch (mode) {
            case "none" -> null;
            case "local" -> RateLimiter.builder().build();
            case "fleet" -> {
                if (redis == null) {
                    throw new IllegalArgumentException("--mode fleet needs --redis");
                }
                yield RateLimiter.builder().fleet(RedisBudgets.builder(redis).keyPrefix(prefix)
                        // a loaded two-core machine: a cold JVM's first round trips can be slow
                        .timeout(Duration.ofMillis(500)).build()).build();
            }
            default -> throw new IllegalArgumentException("--mode is none, local or fleet, not " + mode);
        };
        TlsOptions tls = TlsOptions.builder()
                .trustCertificatePem(Files.readString(cacert, StandardCharsets.US_ASCII)).build();
        ConnectionPoolManager.Builder b = ConnectionPoolManager.builder().statusRetries(false).ioThreads(1)
                .poolConfig(PoolConfig.builder().minIdle(0).maxRetries(0).build()).tls(tls);
        ConnectionPoolManager client = (limits != null ? limits.instrument(b) : b).build();
        try {
            // Open the connection with a request the limit does not count, and wait for Redis in fleet mode.
            client.send(HttpRequest.newBuilder(url.resolve("/ping")).GET().build()).get(30, TimeUnit.SECONDS);
            if (limits != null && mode.equals("fleet")) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!limits.stats().fleetAvailable()) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("Redis did not answer within 20 s");
                    }
                    Thread.sleep(20);
                }
            }
            out.println("ready");
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String go = in.readLine();
            if (go == null || !go.startsWith("go ")) {
                throw new IllegalStateException("expected 'go <epoch ms>', got " + go);
            }
            long start = Long.parseLong(go.substring(3).trim());
            long end = start + windowMs * windows;
            LongAdder[] ok = adders(windows);
            LongAdder[] r429 = adders(windows);
            LongAdder[] other = adders(windows);
            AtomicReference<String> sampleError = new AtomicReference<>();
            HttpRequest req = HttpRequest.newBuilder(url.resolve(PATH)).header("authorization", "Bearer " + key)
                    .header("content-type", "application/json").POST(BODY).build();
            long wait = start - System.currentTimeMillis();
            if (wait > 0) {
                Thread.sleep(wait);
            }
            List<Thread> lanes = new ArrayList<>();
            final long fWindowMs = windowMs;
            for (int l = 0; l < inFlight; l++) {
                Thread t = new Thread(() -> {
                    while (System.currentTimeMillis() < end) {
                        int status;
                        try {
                            HttpResponse resp = client.send(req).get();
                            status = resp.status();
                        } catch (InterruptedException e) {
                            return;
                        } catch (Exception e) {
                            status = -1;
                            sampleError.compareAndSet(null, LoadDriver.describe(e));
                        }
                        long at = System.currentTimeMillis();
                        if (at >= end) {
                            return; // completed after the last window: not counted
                        }
                        int w = (int) Math.max(0, (at - start) / fWindowMs);
                        (status / 100 == 2 ? ok : status == 429 ? r429 : other)[w].increment();
                    }
                }, "rate-limit-lane-" + l);
                t.setDaemon(true);
                t.start();
                lanes.add(t);
            }
            Thread.sleep(Math.max(0, end - System.currentTimeMillis()));
            for (Thread t : lanes) {
                t.join(500); // a lane whose request still waits for room is abandoned (its count is not taken)
            }
            for (int w = 0; w < windows; w++) {
                out.println("window " + w + " ok=" + ok[w].sum() + " r429=" + r429[w].sum() + " other=" + other[w].sum());
            }
            if (limits != null) {
                RateLimitStats s = limits.stats();
                out.println("stats admitted_at_once=" + s.admittedAtOnce() + " shaped=" + s.shaped() + " rejected="
                        + s.rejected() + " seen429=" + s.seen429() + " fleet_admitted=" + s.fleetAdmitted()
                        + " fleet_fallbacks=" + s.fleetFallbacks() + " redis_errors=" + s.redisErrors());
            }
            if (sampleError.get() != null) {
                out.println("sample-error " + sampleError.get().replace('\n', ' '));
            }
            out.println("done");
        } finally {
            // the limiter first: requests still waiting for room fail at once instead of holding the close
            if (limits != null) {
                limits.close();
            }
            client.close();
        }
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }
}

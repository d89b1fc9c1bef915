package io.sluice.cli.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The mock provider in its own JVM ({@code java -cp <this classpath> io.sluice.cli.SluiceCli mock
 * --tls-port 0 ...}), so that a memory measurement of this process does not include the server's
 * side of each connection. Reads the first stdout line ({@code listening https=... cert=...}).
 *
 * <p><b>Thread-safety:</b> not thread-safe; one owner starts and closes it.
 */
public final class ExternalMock implements AutoCloseable {
    private final Process process;
    private final URI https;
    private final String certificatePem;
    private final Path certificatePath;

    private ExternalMock(Process process, URI https, String pem, Path pemPath) {
        this.process = process;
        this.https = https;
        this.certificatePem = pem;
        this.certificatePath = pemPath;
    }

    /** Starts the mock with {@code extraArgs} after the port flags; waits up to 30 s for it to listen. */
    public static ExternalMock start(List<String> extraArgs) throws IOException {
        return start(extraArgs, "512m");
    }

    /** As {@link #start(List)}, with the mock JVM's {@code -Xmx}. */
    public static ExternalMock start(List<String> extraArgs, String maxHeap) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + maxHeap, "-cp", System.getProperty("java.class.path"),
                "io.sluice.cli.SluiceCli", "mock", "--tls-port", "0", "--plain-port", "0", "--idle-timeout", "0s"));
        cmd.addAll(extraArgs);
        // Its stderr goes to a file, so that a mock that fails to start can say why.
        Path errors = Files.createTempFile("sluice-mock-", ".err");
        errors.toFile().deleteOnExit();
        Process p = new ProcessBuilder(cmd).redirectError(errors.toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String first = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (IOException e) {
                    return null;
                }
            }).get(30, TimeUnit.SECONDS);
            if (first == null || !first.startsWith("listening ")) {
                p.waitFor(2, TimeUnit.SECONDS);
                String err = Files.readString(errors, StandardCharsets.UTF_8).strip();
                throw new IOException("the mock process did not start (first line: " + first + ")"
                        + (err.isEmpty() ? "" : "; it said: " + err.lines().reduce((a, b) -> b).orElse(err)));
            }
            // keep draining stdout so the child never blocks on a full pipe
            Thread drain = new Thread(() -> {
                try {
                    while (out.readLine() != null) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // process ended
                }
            }, "sluice-bench-mock-stdout");
            drain.setDaemon(true);
            drain.start();
            URI https = URI.create(field(first, "https"));
            Path pemPath = Path.of(field(first, "cert"));
            String pem = Files.readString(pemPath, StandardCharsets.US_ASCII);
            return new ExternalMock(p, https, pem, pemPath);
        } catch (Exception e) {
            p.destroyForcibly();
            if (e instanceof IOException io) {
                throw io;
            }
            throw new IOException("the mock process did not start: " + e, e);
        }
    }

    static String field(String line, String name) {
        for (String part : line.split(" ")) {
            if (part.startsWith(name + "=")) {
                return part.substring(name.length() + 1);
            }
        }
        throw new IllegalArgumentException("no " + name + "= in: " + line);
    }

    public URI https() {
        return https;
    }

    public String certificatePem() {
        return certificatePem;
    }

    /** The file the mock wrote its certificate to (PEM). */
    public Path certificatePath() {
        return certificatePath;
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}

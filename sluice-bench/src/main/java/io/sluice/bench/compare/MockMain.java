package io.sluice.bench.compare;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The mock provider in its own JVM, for {@link CompareMain}.
 *
 * <pre>java -cp benchmarks.jar io.sluice.bench.compare.MockMain [--max-streams 256] [--idle-timeout-ms 60000] [--io-threads 0]</pre>
 *
 * <p>Prints one line, {@code listening https=URL http=URL cert=PATH tls=PROVIDER transport=NAME},
 * then answers commands read from stdin, one per line:
 * {@code stats} → {@code STATS {json of MockStats}}; {@code reset} → {@code OK};
 * {@code quit} or end of input closes the server and exits. The client JVMs cannot read the mock's
 * counters in-process, so the parent asks here before and after each client.
 */
public final class MockMain {
    private MockMain() {
    }

    public static void main(String[] args) throws Exception {
        int maxStreams = 256;
        long idleMs = 60_000;
        int ioThreads = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--max-streams" -> maxStreams = Integer.parseInt(args[++i]);
                case "--idle-timeout-ms" -> idleMs = Long.parseLong(args[++i]);
                case "--io-threads" -> ioThreads = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        ObjectMapper json = new ObjectMapper();
        try (MockProvider mock = MockProvider.start(MockOptions.builder()
                .maxConcurrentStreams(maxStreams)
                .idleTimeout(Duration.ofMillis(idleMs))
                .ioThreads(ioThreads)
                .rateLimitRequests(1_000_000_000L)
                .rateLimitTokens(1_000_000_000_000L)
                .build())) {
            Path pem = Files.createTempFile("sluice-compare-mock-", ".pem");
            pem.toFile().deleteOnExit();
            Files.writeString(pem, mock.certificatePem());
            System.out.println("listening https=" + mock.httpsUri() + " http=" + mock.httpUri() + " cert=" + pem
                    + " tls=" + mock.tlsProvider() + " transport=" + mock.transport()
                    + " pid=" + ProcessHandle.current().pid());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                switch (line.trim()) {
                    case "stats" -> System.out.println("STATS " + json.writeValueAsString(mock.stats()));
                    case "reset" -> {
                        mock.resetCounters();
                        System.out.println("OK");
                    }
                    case "quit" -> {
                        return;
                    }
                    case "" -> {
                        continue;
                    }
                    default -> System.out.println("ERROR unknown command " + line.trim());
                }
                System.out.flush();
            }
        }
    }
}

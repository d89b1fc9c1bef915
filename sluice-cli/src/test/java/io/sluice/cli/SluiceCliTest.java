package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.MockOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SluiceCliTest {
    @Test
    void helpListsTheCommands() {
        CommandLine cl = SluiceCli.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute("--help")).isZero();
        assertThat(out.toString()).contains("mock").contains("Run the embedded mock AI provider");
    }

    @Test
    void mockFlagsMapToOptions() {
        CommandLine cl = SluiceCli.commandLine();
        CommandLine.ParseResult parsed = cl.parseArgs("mock", "--tls-port", "0", "--plain-port", "0",
                "--max-streams", "32", "--required-key", "k", "--tokens", "3", "--status", "429", "--jdk-tls");
        MockCommand cmd = (MockCommand) parsed.subcommand().commandSpec().userObject();
        MockOptions o = cmd.options();
        assertThat(o.tlsPort()).isZero();
        assertThat(o.maxConcurrentStreams()).isEqualTo(32);
        assertThat(o.requiredApiKey()).isEqualTo("k");
        assertThat(o.forceJdkSsl()).isTrue();
        assertThat(o.behavior().tokens()).isEqualTo(3);
        assertThat(o.behavior().status()).isEqualTo(429);
    }

    @Test
    void rateLimitFlagsTurnEnforcementOn() {
        MockOptions none = ((MockCommand) SluiceCli.commandLine().parseArgs("mock").subcommand().commandSpec()
                .userObject()).options();
        assertThat(none.enforceRateLimits()).isFalse();

        CommandLine.ParseResult parsed = SluiceCli.commandLine().parseArgs("mock", "--rate-limit-requests", "50",
                "--rate-limit-tokens", "40000", "--rate-limit-window", "10s", "--rate-limit-draft-headers");
        MockOptions o = ((MockCommand) parsed.subcommand().commandSpec().userObject()).options();
        assertThat(o.enforceRateLimits()).isTrue();
        assertThat(o.rateLimitRequests()).isEqualTo(50);
        assertThat(o.rateLimitTokens()).isEqualTo(40_000);
        assertThat(o.rateLimitWindow()).isEqualTo(java.time.Duration.ofSeconds(10));
        assertThat(o.rateLimitDraftHeaders()).isTrue();

        // One flag is enough; the other budget keeps its default and the window is a minute.
        MockOptions one = ((MockCommand) SluiceCli.commandLine().parseArgs("mock", "--rate-limit-requests", "3")
                .subcommand().commandSpec().userObject()).options();
        assertThat(one.enforceRateLimits()).isTrue();
        assertThat(one.rateLimitRequests()).isEqualTo(3);
        assertThat(one.rateLimitTokens()).isEqualTo(MockOptions.defaults().rateLimitTokens());
        assertThat(one.rateLimitWindow()).isEqualTo(java.time.Duration.ofSeconds(60));
    }

    @Test
    void nonLoopbackWithoutFlagIsAUsageError() {
        CommandLine cl = SluiceCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("mock", "--host", "0.0.0.0", "--tls-port", "0", "--plain-port", "0");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--allow-non-loopback");
    }

    @Test
    void regionsFlagGivesEachRegionItsDelayAndPorts() {
        CommandLine cl = SluiceCli.commandLine();
        CommandLine.ParseResult parsed = cl.parseArgs("mock", "--tls-port", "9443", "--plain-port", "9080",
                "--regions", "us-east-1:0ms,eu-west-1:40ms,ap-south-1:1s");
        MockCommand cmd = (MockCommand) parsed.subcommand().commandSpec().userObject();
        java.util.List<MockCommand.RegionSpec> regions = cmd.regionSpecs();
        assertThat(regions).containsExactly(new MockCommand.RegionSpec("us-east-1", 0),
                new MockCommand.RegionSpec("eu-west-1", 40), new MockCommand.RegionSpec("ap-south-1", 1000));
        MockOptions eu = cmd.regionOptions(regions.get(1), 1);
        assertThat(eu.tlsPort()).isEqualTo(9444);
        assertThat(eu.plainPort()).isEqualTo(9081);
        assertThat(eu.behavior().delayMs()).isEqualTo(40);
    }

    @Test
    void badRegionDelayIsAUsageError() {
        CommandLine cl = SluiceCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("mock", "--tls-port", "0", "--plain-port", "0", "--regions", "us-east-1:fast");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("bad delay 'fast' for us-east-1");
    }

    @Test
    void compareIsListedAndFindsTheCheckoutItRunsFrom() {
        CommandLine cl = SluiceCli.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute("--help")).isZero();
        assertThat(out.toString()).contains("compare").contains("Side-by-side run");
        java.nio.file.Path root = CompareCommand.repositoryRoot();
        assertThat(root).isNotNull();
        assertThat(root.resolve("sluice-bench")).isDirectory();
    }
}

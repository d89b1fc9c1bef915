package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CompareCommandTest {
    private static CompareCommand parse(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "compare";
        System.arraycopy(args, 0, all, 1, args.length);
        CommandLine.ParseResult parsed = SluiceCli.commandLine().parseArgs(all);
        return (CompareCommand) parsed.subcommand().commandSpec().userObject();
    }

    @Test
    void helpListsEveryOptionAndExitsZero() {
        CommandLine cl = SluiceCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("compare", "--help")).isZero();
        assertThat(out.toString()).contains("Usage: sluice compare")
                .contains("--json", "--requests=N", "--concurrency=C", "--clients", "--mode", "--warmup",
                        "--mock-warmup", "--repeat", "--memory-steps", "--no-h2load", "--url=URL", "--cacert=PEM",
                        "--help", "--version")
                .contains("default: 200000").contains("default: 256");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void unknownOptionIsOneLineAndExitTwo() {
        CommandLine cl = SluiceCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("compare", "--bogus")).isEqualTo(2);
        assertThat(err.toString().lines().toList()).singleElement().asString()
                .startsWith("sluice compare: ").contains("--bogus");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void badValueIsOneLineAndExitTwo() {
        CommandLine cl = SluiceCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("compare", "--requests", "ten")).isEqualTo(2);
        assertThat(err.toString().lines().toList()).singleElement().asString()
                .startsWith("sluice compare: ").contains("--requests").contains("ten");
    }

    @Test
    void urlAndCacertReachCompareMain() {
        assertThat(parse("--url", "https://localhost:8443/v1/chat/completions", "--cacert=/tmp/ca.pem").compareMainArgs())
                .containsExactly("--url", "https://localhost:8443/v1/chat/completions", "--cacert", "/tmp/ca.pem");
    }

    @Test
    void separateAndEqualsSpellingsReachCompareMain() {
        assertThat(parse("--requests", "10", "--concurrency", "4").compareMainArgs())
                .containsExactly("--requests", "10", "--concurrency", "4");
        assertThat(parse("--requests=10").compareMainArgs()).containsExactly("--requests", "10");
    }

    @Test
    void everyOptionIsPassedInCompareMainsSpellingAndOnlyWhenGiven() {
        assertThat(parse().compareMainArgs()).isEmpty();
        List<String> args = parse("--json", "--requests", "1000", "--concurrency=8", "--clients", "sluice,jdk",
                "--mode", "memory", "--warmup", "50", "--mock-warmup", "60", "--repeat", "3",
                "--memory-steps", "10,20", "--no-h2load").compareMainArgs();
        assertThat(args).containsExactly("--json", "--requests", "1000", "--concurrency", "8",
                "--clients", "sluice,jdk", "--mode", "memory", "--warmup", "50", "--mock-warmup", "60",
                "--repeat", "3", "--memory-steps", "10,20", "--no-h2load");
    }
}

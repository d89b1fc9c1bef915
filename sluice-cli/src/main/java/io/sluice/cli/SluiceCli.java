package io.sluice.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code sluice} command. Subcommands are registered from {@link #SUBCOMMANDS}: to add one
 * (bench, probe, compare, soak...), write a picocli {@code @Command} class and add its constructor
 * to that list. Stateless; each run builds a fresh {@link CommandLine}.
 */
@Command(name = "sluice", mixinStandardHelpOptions = true, versionProvider = SluiceCli.Version.class,
        description = "Pooled HTTP/1.1, HTTP/2 and WebSocket connections to AI provider APIs: tools.",
        synopsisSubcommandLabel = "COMMAND")
public final class SluiceCli implements Runnable {
    /** Every subcommand, in the order {@code --help} lists them. */
    static final List<Supplier<Object>> SUBCOMMANDS = List.of(
            BenchCommand::new,
            CompareCommand::new,
            MockCommand::new,
            ProbeCommand::new,
            io.sluice.cli.soak.SoakCommand::new);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command tree; exposed for tests. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SluiceCli());
        for (Supplier<Object> sub : SUBCOMMANDS) {
            cl.addSubcommand(sub.get());
        }
        standardOptionsEverywhere(cl);
        cl.setParameterExceptionHandler((ex, args) -> usageError(ex.getCommandLine(), ex.getMessage()));
        cl.setExecutionExceptionHandler(SluiceCli::executionError);
        return cl;
    }

    /**
     * A bad command line, found while parsing or by the command itself: one line on stderr naming
     * the command and where its help is, exit code {@link ExitCode#USAGE}. (picocli's default
     * prints the whole usage text after the error, which buries the one line that matters.)
     */
    static int usageError(CommandLine cl, String message) {
        PrintWriter err = cl.getErr();
        String name = cl.getCommandSpec().qualifiedName();
        err.println(name + ": " + message + " (see '" + name + " --help')");
        err.flush();
        return ExitCode.USAGE;
    }

    /**
     * What a command threw: a {@link CliFailure} is one line and its exit code; a usage error
     * found late (a file that is not there) is a usage line; anything else is an unexpected
     * failure, one line with exit code {@link ExitCode#RUNTIME} and the stack trace only when
     * {@code SLUICE_DEBUG} is set.
     */
    private static int executionError(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        if (ex instanceof CommandLine.ParameterException pe) {
            return usageError(pe.getCommandLine(), pe.getMessage());
        }
        PrintWriter err = cl.getErr();
        String name = cl.getCommandSpec().qualifiedName();
        if (ex instanceof CliFailure f) {
            err.println(name + ": " + f.getMessage());
            err.flush();
            return f.exitCode();
        }
        err.println(name + ": " + describe(ex));
        if (System.getenv("SLUICE_DEBUG") != null) {
            ex.printStackTrace(err);
        } else {
            err.println("(set SLUICE_DEBUG=1 for the stack trace)");
        }
        err.flush();
        return ExitCode.RUNTIME;
    }

    /** "Type: message" of {@code t}, the innermost cause's when it says more. */
    static String describe(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c
                && (c.getMessage() == null || c instanceof java.util.concurrent.CompletionException
                        || c instanceof java.util.concurrent.ExecutionException)) {
            c = c.getCause();
        }
        String msg = c.getMessage();
        return c.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }

    /**
     * Gives {@code cl} and every command below it {@code --help}/{@code --version} and the shared
     * {@link Version}, so a new subcommand cannot forget them.
     */
    private static void standardOptionsEverywhere(CommandLine cl) {
        CommandLine.Model.CommandSpec spec = cl.getCommandSpec();
        spec.versionProvider(VERSION);
        if (spec.findOption("--version") == null) {
            spec.mixinStandardHelpOptions(true);
        }
        spec.usageMessage().exitCodeListHeading("%nExit codes:%n");
        java.util.Map<String, String> codes = new java.util.LinkedHashMap<>();
        for (String line : ExitCode.HELP) {
            int colon = line.indexOf(':');
            codes.put(line.substring(0, colon), line.substring(colon + 1));
        }
        spec.usageMessage().exitCodeList(codes);
        cl.getSubcommands().values().forEach(SluiceCli::standardOptionsEverywhere);
    }

    private static final Version VERSION = new Version();

    @Override
    public void run() {
        // No subcommand given: show what there is rather than doing nothing silently.
        spec.commandLine().usage(System.out);
    }

    /**
     * The version of the build: {@code io/sluice/cli/version.properties}, which Maven fills in with
     * the project version (so it is right in tests and in the packaged jar alike); the jar
     * manifest's Implementation-Version when that resource is missing or unfiltered.
     */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = projectVersion();
            return new String[] {"sluice " + (v == null ? "(development build)" : v)};
        }

        /** The project version, or null when neither the resource nor the manifest has it. */
        static String projectVersion() {
            try (java.io.InputStream in = SluiceCli.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    java.util.Properties p = new java.util.Properties();
                    p.load(in);
                    String v = p.getProperty("version", "").trim();
                    if (!v.isEmpty() && !v.contains("${")) {
                        return v;
                    }
                }
            } catch (java.io.IOException e) {
                // fall through to the manifest
            }
            return SluiceCli.class.getPackage().getImplementationVersion();
        }
    }
}

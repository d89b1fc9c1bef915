package io.sluice.cli;

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
        // compare answers a bad command line with one line and exit code 2, as CompareMain does for
        // the values it checks itself; every other command keeps picocli's handling.
        CommandLine.IParameterExceptionHandler picocliDefault = cl.getParameterExceptionHandler();
        cl.setParameterExceptionHandler((ex, args) -> ex.getCommandLine().getCommand() instanceof CompareCommand
                ? CompareCommand.usageError(ex)
                : picocliDefault.handleParseException(ex, args));
        return cl;
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

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
        // compare answers a bad command line with one line and exit code 2, as CompareMain does for
        // the values it checks itself; every other command keeps picocli's handling.
        CommandLine.IParameterExceptionHandler picocliDefault = cl.getParameterExceptionHandler();
        cl.setParameterExceptionHandler((ex, args) -> ex.getCommandLine().getCommand() instanceof CompareCommand
                ? CompareCommand.usageError(ex)
                : picocliDefault.handleParseException(ex, args));
        return cl;
    }

    @Override
    public void run() {
        // No subcommand given: show what there is rather than doing nothing silently.
        spec.commandLine().usage(System.out);
    }

    /** Version from the jar manifest when packaged. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = SluiceCli.class.getPackage().getImplementationVersion();
            return new String[] {"sluice " + (v == null ? "(development build)" : v)};
        }
    }
}

package io.sluice.cli;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;

/**
 * Checks of the files and URLs a command line names, made before any work starts so that a typo
 * costs one line and exit code 2, not a run that fails at its end. Each check throws picocli's
 * {@link CommandLine.ParameterException}, which {@link SluiceCli} prints as one usage line.
 *
 * <p>Stateless; thread-safe.
 */
final class InputFiles {
    private InputFiles() {
    }

    /** {@code file} exists, is readable and holds at least one PEM certificate; returns its text. */
    static String pemCertificates(CommandLine cl, String option, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CommandLine.ParameterException(cl, option + ": no such file: " + file);
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new CommandLine.ParameterException(cl, option + ": cannot read " + file + ": " + e.getMessage());
        }
        if (!text.contains("-----BEGIN CERTIFICATE-----")) {
            throw new CommandLine.ParameterException(cl, option + ": no PEM certificate in " + file
                    + " (expected a -----BEGIN CERTIFICATE----- block)");
        }
        return text;
    }

    /** {@code file} can be created or replaced: its directory exists and is writable, and it is not a directory. */
    static void writable(CommandLine cl, String option, Path file) {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (Files.isDirectory(abs)) {
            throw new CommandLine.ParameterException(cl, option + ": " + file + " is a directory");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(cl, option + ": no such directory: " + dir);
        }
        if (!Files.isWritable(dir) || (Files.exists(abs) && !Files.isWritable(abs))) {
            throw new CommandLine.ParameterException(cl, option + ": cannot write " + file);
        }
    }

    /** {@code url} is an absolute http or https URL with a host. */
    static URI httpUrl(CommandLine cl, String option, URI url) {
        String scheme = url.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                || url.getHost() == null) {
            throw new CommandLine.ParameterException(cl, option + ": '" + url
                    + "' is not an http:// or https:// URL with a host");
        }
        return url;
    }
}

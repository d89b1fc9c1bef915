package io.sluice.testkit.junit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Keeps the README's Java examples true: each module's test takes its block (marked
 * {@code // README example: <module>} on the block's first line) and compiles it against the module's test
 * class path, warnings as errors, as a reader copying it would.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class ReadmeExamples {

    private ReadmeExamples() {
    }

    /** The README's Java block for {@code module}; an {@link AssertionError} when the README has none. */
    public static String block(String module) {
        String readme;
        try {
            readme = Files.readString(Path.of("..", "README.md")); // tests run in their module's directory
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Matcher m = Pattern.compile("```java\\n// README example: " + Pattern.quote(module) + "\\n(.*?)```",
                Pattern.DOTALL).matcher(readme);
        if (!m.find()) {
            throw new AssertionError("README has no example marked '// README example: " + module + "'");
        }
        return m.group(1);
    }

    /**
     * Compiles {@code source} as {@code className}.java in {@code dir} with {@code --release 17 -Xlint:all -Werror}
     * and {@code extraOptions}; returns null when it compiled (and the class file is there), else javac's messages.
     */
    public static String compile(String source, String className, Path dir, String... extraOptions) {
        try {
            Path src = dir.resolve(className + ".java");
            Files.writeString(src, source);
            List<String> args = new ArrayList<>(List.of("--release", "17", "-Xlint:all", "-Werror"));
            args.addAll(List.of(extraOptions));
            args.addAll(List.of("-cp", System.getProperty("java.class.path"), "-d", dir.toString(), src.toString()));
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
            int rc = javac.run(null, diagnostics, diagnostics, args.toArray(String[]::new));
            if (rc != 0 || !Files.exists(dir.resolve(className + ".class"))) {
                return "javac exit " + rc + ": " + diagnostics.toString(StandardCharsets.UTF_8);
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

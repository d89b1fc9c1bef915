package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.MockProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps the README's client example true: extracts it, compiles it, and runs it against the mock provider. */
class HttpReadmeExampleTest {

    private static final Pattern BLOCK = Pattern.compile("```java\\n// README example: sluice-http\\n(.*?)```", Pattern.DOTALL);

    @Test
    void readmeClientExampleCompilesAndStreamsAChatCompletion(@TempDir Path dir) throws Exception {
        String printed = compileAndRun(BLOCK, "ChatExample", dir, "mock.pem");
        assertThat(printed).startsWith("HTTP 200 over h2").contains("\"object\":\"chat.completion.chunk\"")
                .doesNotContain("[DONE]");
    }

    private static final Pattern SHARED = Pattern.compile("```java\\n// README example: shared resources\\n(.*?)```",
            Pattern.DOTALL);

    @Test
    void readmeSharedResourcesExampleCompilesAndRuns(@TempDir Path dir) throws Exception {
        assertThat(compileAndRun(SHARED, "SharedExample", dir, "ca.pem")).contains("first: 200").contains("second: 200")
                .contains("open");
    }

    /**
     * Extracts the README block {@code block} matches, compiles it as {@code className}, runs its main
     * against a fresh mock (arguments: the mock's https URI and the path of its certificate, written to
     * {@code pemName}), and answers what it printed.
     */
    private String compileAndRun(Pattern block, String className, Path dir, String pemName) throws Exception {
        Matcher m = block.matcher(Files.readString(Path.of("..", "README.md")));
        assertThat(m.find()).as("README has the " + className + " example").isTrue();
        Path src = dir.resolve(className + ".java");
        Files.writeString(src, m.group(1));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, List.of("--release", "17", "-Xlint:all", "-Werror", "-cp",
                System.getProperty("java.class.path"), "-d", dir.toString(), src.toString()).toArray(new String[0]));
        assertThat(rc).as(diagnostics.toString(StandardCharsets.UTF_8)).isZero();
        try (MockProvider mock = MockProvider.start();
             URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            Path pem = dir.resolve(pemName);
            Files.writeString(pem, mock.certificatePem());
            Method main = loader.loadClass(className).getMethod("main", String[].class);
            PrintStream original = System.out;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                main.invoke(null, (Object) new String[] {mock.httpsUri().toString(), pem.toString()});
            } finally {
                System.setOut(original);
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}

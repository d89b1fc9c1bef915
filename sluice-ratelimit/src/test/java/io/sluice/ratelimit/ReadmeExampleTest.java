package io.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps the README's sluice-ratelimit example true: extracts the block and compiles it against this module. */
class ReadmeExampleTest {

    private static final Pattern BLOCK =
            Pattern.compile("```java\\n// README example: sluice-ratelimit\\n(.*?)```", Pattern.DOTALL);

    @Test
    void readmeExampleCompiles(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher m = BLOCK.matcher(readme);
        assertThat(m.find()).as("README has the sluice-ratelimit example").isTrue();
        Path src = dir.resolve("RateLimitsExample.java");
        Files.writeString(src, m.group(1));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, "--release", "17", "-Xlint:all", "-Werror",
                "-cp", System.getProperty("java.class.path"), "-d", dir.toString(), src.toString());
        assertThat(rc).as(diagnostics.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(dir.resolve("RateLimitsExample.class")).exists();
    }
}

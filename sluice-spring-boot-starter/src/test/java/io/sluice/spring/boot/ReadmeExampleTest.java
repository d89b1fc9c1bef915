package io.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.junit.ReadmeExamples;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps the README's Spring Boot example true: extracts the block and compiles it against this module. */
class ReadmeExampleTest {

    @Test
    void readmeExampleCompiles(@TempDir Path dir) {
        assertThat(ReadmeExamples.compile(ReadmeExamples.block("sluice-spring-boot-starter"), "SluiceConfig", dir, "-Xlint:-processing", "-proc:none"))
                .as("javac on the README's sluice-spring-boot-starter example").isNull();
    }
}

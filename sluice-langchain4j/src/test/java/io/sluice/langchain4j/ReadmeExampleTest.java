package io.sluice.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.junit.ReadmeExamples;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps the README's sluice-langchain4j example true: extracts the block and compiles it against this module. */
class ReadmeExampleTest {

    @Test
    void readmeExampleCompiles(@TempDir Path dir) {
        assertThat(ReadmeExamples.compile(ReadmeExamples.block("sluice-langchain4j"), "LangChain4jExample", dir))
                .as("javac on the README's sluice-langchain4j example").isNull();
    }
}

package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JvmNativeMemoryTest {

    @Test
    void sumsTheJvmsOwnCategoriesAndLeavesThreadsAndBuffersOut() {
        String summary = """
                Native Memory Tracking:

                Total: reserved=1973029KB, committed=603713KB
                       malloc: 27841KB #74394, peak=33474KB #74076

                -                 Java Heap (reserved=524288KB, committed=524288KB)
                                            (mmap: reserved=524288KB, committed=524288KB, at peak)
                -                     Class (reserved=1048954KB, committed=2874KB)
                -                    Thread (reserved=41107KB, committed=3983KB)
                -                      Code (reserved=250740KB, committed=13824KB)
                -                  Compiler (reserved=265KB, committed=265KB)
                -                     Other (reserved=1314KB, committed=1314KB)
                -               Arena Chunk (reserved=16493KB, committed=16493KB)
                -                 Metaspace (reserved=65608KB, committed=18888KB)
                """;
        assertThat(JvmNativeMemory.ownCommitted(summary))
                .isEqualTo((524288L + 2874 + 13824 + 265 + 16493 + 18888) * 1024);
    }

    @Test
    void noSummaryGivesMinusOne() {
        assertThat(JvmNativeMemory.ownCommitted("Native memory tracking is not enabled")).isEqualTo(-1);
    }
}

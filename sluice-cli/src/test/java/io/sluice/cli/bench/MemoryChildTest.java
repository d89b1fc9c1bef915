package io.sluice.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The parsers of the readings the memory child takes from the JVM's diagnostic commands. */
class MemoryChildTest {

    @Test
    void nativeMemoryTrackingTotalsAreReadFromTheSummary() {
        String summary = """

                Native Memory Tracking:

                (Omitting categories weighting less than 1KB)

                Total: reserved=1973029KB, committed=603713KB
                       malloc: 27841KB #74394, peak=33474KB #74076
                       mmap:   reserved=1945188KB, committed=575872KB

                -                 Java Heap (reserved=524288KB, committed=524288KB)
                                            (mmap: reserved=524288KB, committed=524288KB, at peak)
                                            (malloc=378KB tag=Class #9425) (peak=381KB #9555)
                """;
        assertThat(MemoryChild.parseNmt(summary)).containsExactly(603713L * 1024, 27841L * 1024);
    }

    @Test
    void javaSeventeensSummaryShapeIsReadToo() {
        String summary = "Native Memory Tracking:\n\nTotal: reserved=7845081KB, committed=487297KB\n"
                + "       malloc: 12689KB #61264\n       mmap:   reserved=7832392KB, committed=474608KB\n";
        assertThat(MemoryChild.parseNmt(summary)).containsExactly(487297L * 1024, 12689L * 1024);
    }

    @Test
    void trackingOffGivesMinusOne() {
        assertThat(MemoryChild.parseNmt("Native memory tracking is not enabled\n")).containsExactly(-1L, -1L);
    }

    @Test
    void mallocInUseIsArenaMemoryLessFreeChunksPlusMmappedOnes() {
        String xml = """
                <malloc version="1">
                <heap nr="0">
                <sizes></sizes>
                <total type="fast" count="1" size="32"/>
                <total type="rest" count="2" size="999"/>
                <system type="current" size="5000"/>
                </heap>
                <total type="fast" count="3" size="100"/>
                <total type="rest" count="4" size="900"/>
                <total type="mmap" count="1" size="20000"/>
                <system type="current" size="10000"/>
                <system type="max" size="12000"/>
                </malloc>
                """;
        assertThat(MemoryChild.mallocInUse(xml)).isEqualTo(10000 - 100 - 900 + 20000);
        assertThat(MemoryChild.mallocInUse("not xml")).isEqualTo(-1);
    }
}

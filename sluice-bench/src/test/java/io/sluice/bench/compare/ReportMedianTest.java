package io.sluice.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportMedianTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode run(double rps, double p50, double p99, double cpu, long errors, long connections) {
        ObjectNode r = JSON.createObjectNode();
        r.put("client", "sluice");
        r.put("rps", rps);
        r.put("p50_ms", p50);
        r.put("p99_ms", p99);
        r.put("cpu_us_per_request", cpu);
        r.put("errors", errors);
        r.put("connections", connections);
        return r;
    }

    @Test
    void eachFigureIsItsOwnMedianAndEveryRunIsKept() {
        ObjectNode m = Report.median(List.of(run(9000, 20, 80, 100, 0, 14), run(13000, 15, 40, 90, 1, 15),
                run(10000, 25, 60, 120, 0, 16)));
        assertThat(m.path("rps").asDouble()).isEqualTo(10000);
        assertThat(m.path("p50_ms").asDouble()).isEqualTo(20);
        assertThat(m.path("p99_ms").asDouble()).isEqualTo(60);
        assertThat(m.path("cpu_us_per_request").asDouble()).isEqualTo(100);
        assertThat(m.path("errors").asLong()).as("errors of all runs").isEqualTo(1);
        assertThat(m.path("connections").asLong()).as("from the median-rps run").isEqualTo(16);
        assertThat(m.path("runs").asInt()).isEqualTo(3);
        assertThat(m.path("rps_runs").toString()).isEqualTo("[9000.0,13000.0,10000.0]");
        assertThat(m.path("p99_ms_runs").toString()).isEqualTo("[80.0,40.0,60.0]");
    }

    @Test
    void anEvenNumberOfRunsAveragesTheMiddleTwo() {
        ObjectNode m = Report.median(List.of(run(8000, 20, 70, 100, 0, 1), run(12000, 10, 50, 80, 0, 1)));
        assertThat(m.path("rps").asDouble()).isEqualTo(10000);
        assertThat(m.path("p99_ms").asDouble()).isEqualTo(60);
    }
}

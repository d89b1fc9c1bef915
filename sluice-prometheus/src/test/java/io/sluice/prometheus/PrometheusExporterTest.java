package io.sluice.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.pool.CloseReason;
import io.sluice.pool.PoolStats;
import java.util.EnumMap;
import java.util.Map;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PrometheusExporterTest {

    private static final Pattern SAMPLE = Pattern.compile(
            "[a-zA-Z_:][a-zA-Z0-9_:]*\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*\\} -?[0-9.eE+-]+");

    /** A pool after two connects, two acquires and one release: two open, one idle, one lease out. */
    private static PoolStats twoConnectionsOneLeaseOut() {
        Map<CloseReason, Long> closed = new EnumMap<>(CloseReason.class);
        for (CloseReason r : CloseReason.values()) {
            closed.put(r, 0L);
        }
        return new PoolStats("api.openai.com:443", 3, 2, 0, 1, 1, 0, 1, 2, 0, 2, 0, closed, 0, 2, 0, 2, 0, 0, 0,
                1_000, 5_000, 5_000, 3_000.0, 6_000, 2, 0);
    }

    @Test
    void exposesTheSeedMetricNamesWithPoolLabelsAndValues() {
        {
            String text = PrometheusExporter.format(List.of(twoConnectionsOneLeaseOut()));
            assertThat(text).contains("# TYPE connection_pool_total counter\n")
                    .contains("connection_pool_total{pool=\"api.openai.com:443\"} 2\n")
                    .contains("# TYPE connection_pool_active gauge\n")
                    .contains("connection_pool_active{pool=\"api.openai.com:443\"} 1\n")
                    .contains("# TYPE connection_pool_wait_time_seconds gauge\n")
                    .contains("connection_pool_idle{pool=\"api.openai.com:443\"} 1\n")
                    .contains("connection_pool_pending{pool=\"api.openai.com:443\"} 0\n")
                    .contains("connection_pool_wait_quantile_seconds{pool=\"api.openai.com:443\",quantile=\"0.99\"}")
                    .contains("connection_pool_closed_total{pool=\"api.openai.com:443\",reason=\"idle\"} 0\n")
                    .contains("# TYPE connection_pool_connect_attempts_total counter\n")
                    .contains("connection_pool_connect_attempts_total{pool=\"api.openai.com:443\"} 2\n")
                    .contains("connection_pool_connect_backoffs_total{pool=\"api.openai.com:443\"} 0\n");
            for (String line : text.split("\n")) {
                if (line.startsWith("#")) {
                    assertThat(line).matches("# (HELP|TYPE) connection_pool_[a-z_]+ .+");
                } else {
                    assertThat(SAMPLE.matcher(line).matches()).as(line).isTrue();
                }
            }
        }
    }

    @Test
    void escapesLabelValues() {
        assertThat(PrometheusExporter.escape("a\"b\\c\nd")).isEqualTo("a\\\"b\\\\c\\nd");
    }
}

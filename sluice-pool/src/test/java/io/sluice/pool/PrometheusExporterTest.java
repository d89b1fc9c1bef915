package io.sluice.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PrometheusExporterTest {

    private static final Pattern SAMPLE = Pattern.compile(
            "[a-zA-Z_:][a-zA-Z0-9_:]*\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*\\} -?[0-9.eE+-]+");

    @Test
    void exposesTheSeedMetricNamesWithPoolLabelsAndValues() {
        FakeConnectionManager m = new FakeConnectionManager();
        try (Pool<FakeConnectionManager.Conn> p = Pool.builder(m).name("api.openai.com:443")
                .config(PoolConfig.builder().maxConnections(3).minIdle(0).validationBypassWindow(Duration.ZERO).build())
                .periodicHousekeeping(false).build()) {
            Lease<FakeConnectionManager.Conn> a = p.acquire().join();
            Lease<FakeConnectionManager.Conn> b = p.acquire().join();
            b.close();
            String text = PrometheusExporter.format(List.of(p.stats()));
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
            a.close();
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

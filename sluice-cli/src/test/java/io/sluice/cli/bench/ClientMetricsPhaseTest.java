package io.sluice.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.cli.Terminal;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The bench's client-metrics phase against the embedded mock: the counts it reads back from the Prometheus
 * exposition are the traffic it sent (1 000 pings and 10 completions answered 2xx, 5 answered 429), its histograms
 * have counts and ordered quantiles, and the HTML report shows the series.
 */
class ClientMetricsPhaseTest {

    @Test
    @Timeout(120)
    void theSeriesAreTheTrafficItSentAndTheReportShowsThem() throws Exception {
        BenchOptions o = BenchOptions.quickDefaults().withProgress(false);
        PhaseResult r;
        try (BenchTarget target = BenchTarget.startMock();
             ProgressLine progress = new ProgressLine(new PrintStream(new ByteArrayOutputStream()), Terminal.PLAIN, false)) {
            r = new ClientMetricsPhase().run(new BenchContext(o, target, progress));
        }
        assertThat(r.number("sluice_http_client_requests_total{status=\"2xx\"}"))
                .isEqualTo(ClientMetricsPhase.REQUESTS + ClientMetricsPhase.STREAMS);
        assertThat(r.number("sluice_http_client_requests_total{status=\"429\"}")).isEqualTo(ClientMetricsPhase.THROTTLED);
        assertThat(r.number("sluice_http_client_request_duration_seconds_count"))
                .isEqualTo(ClientMetricsPhase.REQUESTS + ClientMetricsPhase.STREAMS + ClientMetricsPhase.THROTTLED);
        assertThat(r.number("sluice_pool_acquire_wait_seconds_count")).isGreaterThanOrEqualTo(ClientMetricsPhase.REQUESTS);
        assertThat(r.number("sluice_pool_connections_opened_total")).isPositive();
        String p50 = String.valueOf(r.metrics().get("sluice_http_client_request_duration_seconds p50 (le, ms)"));
        String p99 = String.valueOf(r.metrics().get("sluice_http_client_request_duration_seconds p99 (le, ms)"));
        assertThat(Double.parseDouble(p50)).isPositive().isLessThanOrEqualTo(p99.equals("+Inf")
                ? Double.MAX_VALUE : Double.parseDouble(p99));

        BenchReport report = new BenchReport(java.util.Map.of(), java.util.List.of(), java.util.List.of(r), 0, 1);
        assertThat(HtmlReport.render(report)).contains("Client metrics", "sluice_http_client_requests_total{status=&quot;2xx&quot;}");
    }
}

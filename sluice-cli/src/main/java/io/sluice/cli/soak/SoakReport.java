package io.sluice.cli.soak;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of a soak run. Immutable.
 *
 * @param durationMs          wall time of the load phase
 * @param requests            requests finished (ordinary and injected)
 * @param successes           requests that ended well
 * @param requestsByKind      requests per kind ({@link RequestKind#label()})
 * @param failures            failed requests by type: exception simple name, or {@code status_4xx} /
 *                            {@code status_5xx} for error statuses left after the client's retries
 * @param faultsInjected      faults injected, by name
 * @param injectedOutcomes    outcomes of the requests that carried a fault, as {@code fault:type}
 * @param replays             transport replays the client performed (its per-route counters)
 * @param replaysByKind       the same by kind ({@code goaway_unprocessed}, {@code refused_stream},
 *                            {@code stale_connection})
 * @param leakedLeases        leases still out over all pools after draining (must be 0)
 * @param pendingWaiters      acquirers still waiting over all pools after draining (must be 0)
 * @param hungRequests        requests that did not complete within their deadline (must be 0)
 * @param defects             programming errors (NullPointerException, ...) seen by requests (must be 0)
 * @param bufferLeaks         Netty buffer leak reports under PARANOID detection (must be 0)
 * @param leakDetectionActive whether buffer leaks were being counted at all
 * @param violations          every broken invariant, in words; empty when the run is clean
 * @param samples             a few defect and hung-request descriptions
 * @param pools               per pool, its final accounting
 * @param peakHeapBytes       sum of the heap memory pools' peak usage during the run
 */
public record SoakReport(
        long durationMs,
        long requests,
        long successes,
        Map<String, Long> requestsByKind,
        Map<String, Long> failures,
        Map<String, Long> faultsInjected,
        Map<String, Long> injectedOutcomes,
        long replays,
        Map<String, Long> replaysByKind,
        long leakedLeases,
        long pendingWaiters,
        long hungRequests,
        long defects,
        long bufferLeaks,
        boolean leakDetectionActive,
        List<String> violations,
        List<String> samples,
        Map<String, String> pools,
        long peakHeapBytes) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** True when no invariant broke. */
    public boolean invariantOk() {
        return violations.isEmpty();
    }

    /** The report as one JSON object with snake_case keys. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requests", requests);
        m.put("successes", successes);
        m.put("failures", failures);
        m.put("replays", replays);
        m.put("leaked_leases", leakedLeases);
        m.put("buffer_leaks", bufferLeaks);
        m.put("invariant_ok", invariantOk());
        m.put("peak_heap_bytes", peakHeapBytes);
        m.put("duration_ms", durationMs);
        m.put("requests_by_kind", requestsByKind);
        m.put("faults_injected", faultsInjected);
        m.put("injected_outcomes", injectedOutcomes);
        m.put("replays_by_kind", replaysByKind);
        m.put("pending_waiters", pendingWaiters);
        m.put("hung_requests", hungRequests);
        m.put("defects", defects);
        m.put("leak_detection_active", leakDetectionActive);
        m.put("violations", violations);
        m.put("samples", samples);
        m.put("pools", pools);
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the soak report as JSON", e);
        }
    }

    /** A human-readable summary. */
    public String toText() {
        StringBuilder b = new StringBuilder();
        b.append(String.format("soak: %d requests in %.1f s, %d ok, %d failed%n", requests, durationMs / 1000.0,
                successes, requests - successes));
        b.append("  by kind:          ").append(requestsByKind).append('\n');
        b.append("  failures by type: ").append(failures).append('\n');
        b.append("  faults injected:  ").append(faultsInjected).append('\n');
        b.append("  injected results: ").append(injectedOutcomes).append('\n');
        b.append("  replays:          ").append(replays).append(' ').append(replaysByKind).append('\n');
        b.append("  leaked leases:    ").append(leakedLeases).append(", pending waiters: ").append(pendingWaiters)
                .append(", hung requests: ").append(hungRequests).append(", defects: ").append(defects).append('\n');
        b.append("  buffer leaks:     ").append(bufferLeaks)
                .append(leakDetectionActive ? " (paranoid detection)" : " (DETECTION INACTIVE)").append('\n');
        b.append(String.format("  peak heap:        %.1f MiB%n", peakHeapBytes / 1048576.0));
        pools.forEach((k, v) -> b.append("  pool ").append(k).append(": ").append(v).append('\n'));
        samples.forEach(s -> b.append("  ! ").append(s).append('\n'));
        b.append(invariantOk() ? "invariants: OK" : "invariants: BROKEN " + violations).append('\n');
        return b.toString();
    }
}

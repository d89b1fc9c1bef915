package io.sluice.cli.soak;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;

/**
 * The soak's live counters: requests by kind, outcomes by type (all requests, and separately the
 * ones that carried an injected fault), faults injected, requests that overran their deadline and
 * defects seen. Thread-safe: concurrent maps of {@link LongAdder}s, written by workers and the
 * fault injector, read by the progress line and the final report.
 */
final class SoakStats {
    private static final int MAX_SAMPLES = 10;

    private final LongAdder requests = new LongAdder();
    private final LongAdder successes = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> byKind = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> failures = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> injectedOutcomes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> faults = new ConcurrentHashMap<>();
    private final LongAdder hung = new LongAdder();
    private final LongAdder defects = new LongAdder();
    private final ConcurrentLinkedQueue<String> samples = new ConcurrentLinkedQueue<>();

    /** One finished request; {@code fault} is null for the ordinary workload. */
    void record(RequestKind kind, Fault fault, Outcome outcome) {
        requests.increment();
        add(byKind, kind.label());
        if (outcome.isOk()) {
            successes.increment();
        } else {
            add(failures, outcome.type());
        }
        if (fault != null) {
            add(injectedOutcomes, fault.cliName() + ":" + outcome.type());
        }
        if (outcome.unexpected()) {
            defects.increment();
            sample("defect " + outcome.type() + " on " + kind.label() + (fault == null ? "" : " with " + fault.cliName())
                    + ": " + outcome.detail());
        }
    }

    /** A request that had not completed by its deadline: an invariant violation. */
    void hung(RequestKind kind, Fault fault) {
        hung.increment();
        sample("request never completed within its deadline: " + kind.label()
                + (fault == null ? "" : " with " + fault.cliName()));
    }

    void faultInjected(Fault fault) {
        add(faults, fault.cliName());
    }

    long requests() {
        return requests.sum();
    }

    long successes() {
        return successes.sum();
    }

    long hungRequests() {
        return hung.sum();
    }

    long failuresTotal() {
        return failures.values().stream().mapToLong(LongAdder::sum).sum();
    }

    long faultsTotal() {
        return faults.values().stream().mapToLong(LongAdder::sum).sum();
    }

    Map<String, Long> byKind() {
        return snapshot(byKind);
    }

    Map<String, Long> failures() {
        return snapshot(failures);
    }

    Map<String, Long> injectedOutcomes() {
        return snapshot(injectedOutcomes);
    }

    Map<String, Long> faults() {
        return snapshot(faults);
    }

    /** Defects and hung requests, the first few of each run, for the report. */
    java.util.List<String> samples() {
        return java.util.List.copyOf(samples);
    }

    long defects() {
        return defects.sum();
    }

    private void sample(String s) {
        // Benign race: a few samples over the cap is harmless.
        if (samples.size() < MAX_SAMPLES) {
            samples.add(s);
        }
    }

    private static void add(ConcurrentHashMap<String, LongAdder> map, String key) {
        map.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    private static Map<String, Long> snapshot(ConcurrentHashMap<String, LongAdder> map) {
        Map<String, Long> out = new TreeMap<>();
        map.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}

package io.sluice.cli.bench;

import io.sluice.pool.ScalingDecision;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The scaling phase's summary and its event list, both derived from one list of scaler decisions so
 * that they cannot disagree: each decision belongs to the spell (burst or idle) its own timestamp
 * falls in, and the pool size "after the burst" is the target of the last decision inside the burst.
 * A grow that lands just after the burst (the scaler judges the interval that has just ended) is
 * listed, and counted, in the idle spell.
 *
 * <p><b>Thread-safety:</b> immutable.
 *
 * @param events         every decision, HOLDs included, as report rows ({@code at_s}, {@code spell},
 *                       {@code action}, {@code from}, {@code to}, ...), in decision order
 * @param maxAfterBurst  the pool's limit at the end of the burst
 * @param maxAfterIdle   the pool's limit at the end of the idle spell
 * @param growsInBurst   GROW decisions during the burst
 * @param shrinksInIdle  SHRINK decisions during the idle spell
 * @param growsInIdle    GROW decisions during the idle spell
 * @param shrinksInBurst SHRINK decisions during the burst
 */
public record ScalingSummary(List<Map<String, Object>> events, int maxAfterBurst, int maxAfterIdle, int growsInBurst,
        int shrinksInIdle, int growsInIdle, int shrinksInBurst) {

    public ScalingSummary {
        events = List.copyOf(events);
    }

    /**
     * Summarises {@code decisions} of a pool that started at {@code startMax}; times are
     * {@link System#nanoTime()} readings, {@code at_s} is relative to {@code phaseStart}.
     */
    public static ScalingSummary of(List<ScalingDecision> decisions, int startMax, long phaseStart, long burstEnd) {
        List<Map<String, Object>> events = new ArrayList<>();
        int afterBurst = startMax;
        int afterIdle = startMax;
        int growsInBurst = 0;
        int shrinksInIdle = 0;
        int growsInIdle = 0;
        int shrinksInBurst = 0;
        for (ScalingDecision d : decisions) {
            boolean inBurst = d.atNanos() < burstEnd;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("at_s", Num.round((d.atNanos() - phaseStart) / 1e9, 2));
            m.put("spell", inBurst ? "burst" : "idle");
            m.put("action", d.action().name());
            m.put("from", d.from());
            m.put("to", d.to());
            m.put("mean_wait_ms", Num.round(d.meanWaitMillis(), 1));
            m.put("utilisation", Num.round(d.utilisation(), 3));
            m.put("acquisitions", d.acquisitions());
            events.add(m);
            if (d.action() == ScalingDecision.Action.HOLD) {
                continue;
            }
            afterIdle = d.to();
            if (inBurst) {
                afterBurst = d.to();
            }
            boolean grow = d.action() == ScalingDecision.Action.GROW;
            if (inBurst) {
                if (grow) {
                    growsInBurst++;
                } else {
                    shrinksInBurst++;
                }
            } else if (grow) {
                growsInIdle++;
            } else {
                shrinksInIdle++;
            }
        }
        return new ScalingSummary(events, afterBurst, afterIdle, growsInBurst, shrinksInIdle, growsInIdle,
                shrinksInBurst);
    }
}

package io.sluice.health;

/**
 * Told when a monitored pool turns healthy or unhealthy. Called on the monitor's thread,
 * never while the monitor holds a lock; must not block.
 */
@FunctionalInterface
public interface HealthListener {
    void healthChanged(String pool, HealthStatus previous, HealthStatus current);
}

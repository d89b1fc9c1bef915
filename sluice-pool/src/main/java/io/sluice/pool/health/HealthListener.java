package io.sluice.pool.health;

/**
 * Told when a monitored pool turns healthy or unhealthy. Called on the monitor's thread,
 * never while the monitor holds a lock; must not block.
 *
 * <p><b>Thread-safety:</b> called from the monitor's threads, possibly concurrently for different pools; implementations must be thread-safe.
 */
@FunctionalInterface
public interface HealthListener {
    void healthChanged(String pool, HealthStatus previous, HealthStatus current);
}

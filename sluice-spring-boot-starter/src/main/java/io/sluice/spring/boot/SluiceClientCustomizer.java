package io.sluice.spring.boot;

import io.sluice.http.ConnectionPoolManager;

/**
 * Adjusts the shared {@link ConnectionPoolManager}'s builder after the {@code sluice.*} properties were applied and
 * before it is built: interceptors, a custom {@link io.sluice.http.AddressResolver}, shared
 * {@link io.sluice.http.SluiceResources}, outlier-detection settings, a status-retry policy of your own, limits.
 * Every {@code SluiceClientCustomizer} bean is applied, in {@link org.springframework.core.annotation.Order} order.
 *
 * <pre>{@code
 * @Bean
 * SluiceClientCustomizer tenantHeader() {
 *     return builder -> builder.interceptor(r -> r.toBuilder().header("x-tenant", "blue").build());
 * }
 * }</pre>
 *
 * <p><b>Thread-safety:</b> called once, on the thread that creates the manager bean, with a builder confined to
 * that call. <b>Ownership:</b> the builder is Spring's; whatever a customizer hands the builder (an executor,
 * shared resources) stays the customizer's to close, after the manager (which Spring closes first).
 */
@FunctionalInterface
public interface SluiceClientCustomizer {

    /** Changes {@code builder} in place. */
    void customize(ConnectionPoolManager.Builder builder);
}

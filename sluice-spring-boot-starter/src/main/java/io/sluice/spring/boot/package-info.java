/**
 * Spring Boot auto-configuration for Sluice: the shared {@link io.sluice.http.ConnectionPoolManager} from the
 * {@code sluice.*} properties ({@link io.sluice.spring.boot.SluiceProperties}) and
 * {@link io.sluice.spring.boot.SluiceClientCustomizer}s; Boot's HTTP client builders over it; the official SDK
 * clients; Spring AI's chat models; Micrometer meters and Actuator health; opt-in, the providers' rate limits
 * ({@code sluice.rate-limits.*}). See {@code docs/spring-boot.md}.
 */
package io.sluice.spring.boot;

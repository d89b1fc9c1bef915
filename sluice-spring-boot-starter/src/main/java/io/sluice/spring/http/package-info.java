/**
 * Spring's HTTP client abstractions over a Sluice {@link io.sluice.http.ConnectionPoolManager}: a
 * {@link org.springframework.http.client.ClientHttpRequestFactory} for {@code RestClient} and {@code RestTemplate},
 * a {@link org.springframework.http.client.reactive.ClientHttpConnector} for {@code WebClient}, and an OkHttp
 * interceptor for libraries that build OkHttp clients themselves (Spring AI). Usable without Spring Boot.
 */
package io.sluice.spring.http;

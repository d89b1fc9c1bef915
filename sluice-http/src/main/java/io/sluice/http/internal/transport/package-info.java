/**
 * Netty internals of the HTTP client: event loops, TLS, the pool's
 * {@link io.sluice.pool.ConnectionManager} per route, and the HTTP/1.1 and HTTP/2
 * connections with their exchanges. Not an API: types here are public only so that
 * {@code io.sluice.http.internal.client} can use them, and may change without notice.
 *
 * <p>Threading rule for the whole package: each connection's mutable state is confined
 * to its channel's event loop; methods callable from other threads say so and hop onto
 * the loop. {@link io.sluice.http.internal.transport.ExchangeListener} callbacks always run on the
 * event loop and must not block.
 */
package io.sluice.http.internal.transport;

/**
 * The request execution layer between the public API and the transport: one
 * {@link io.sluice.http.internal.client.Call} per request (acquire, replays, status retries,
 * timeouts) and the response body machinery (a bounded queue of network buffers, chunks,
 * publishers, SSE and aggregation). Not an API.
 */
package io.sluice.http.internal.client;

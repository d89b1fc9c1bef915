/**
 * Building blocks shared by the SDK transports ({@code sluice-anthropic},
 * {@code sluice-openai}, {@code sluice-langchain4j}): a blocking {@link java.io.InputStream}
 * over a streaming response, exchange tracking so a transport's {@code close()} aborts only
 * its own calls, per-call timeout mapping, and URL building; and the bounded metric label values
 * ({@link io.sluice.http.sdk.MetricLabels}) the metrics bindings share. Public for those modules; not
 * needed by applications that use {@link io.sluice.http.ConnectionPoolManager} directly.
 */
package io.sluice.http.sdk;

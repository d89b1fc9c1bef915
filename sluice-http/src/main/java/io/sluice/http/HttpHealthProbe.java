package io.sluice.http;

import io.sluice.pool.health.HealthProbe;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A health probe done through the pooled connections of the route it checks, so it tests
 * the connections requests will use: {@code HEAD {base}/generate_204} by default (cheap for
 * the server, no body), succeeding on any 2xx status.
 *
 * <p><b>Thread-safety:</b> immutable; probes may run concurrently.
 */
public final class HttpHealthProbe implements HealthProbe {

    private final ConnectionPoolManager client;
    private final HttpRequest request;

    /** A probe sending {@code request} through {@code client}; success is a 2xx answer. */
    public HttpHealthProbe(ConnectionPoolManager client, HttpRequest request) {
        this.client = Objects.requireNonNull(client, "client");
        this.request = Objects.requireNonNull(request, "request");
    }

    /** {@code HEAD {base}/generate_204}, bounded by {@code timeout} to the headers. */
    public static HttpHealthProbe generate204(ConnectionPoolManager client, URI base, Duration timeout) {
        HttpRequest head = HttpRequest.newBuilder(base.resolve("/generate_204")).method("HEAD")
                .headersTimeout(timeout).build();
        return new HttpHealthProbe(client, head);
    }

    @Override
    public CompletionStage<?> probe() {
        return client.send(request).thenCompose(r -> r.status() / 100 == 2 ? CompletableFuture.completedFuture(r)
                : CompletableFuture.failedFuture(new IOException("health probe answered HTTP " + r.status())));
    }
}

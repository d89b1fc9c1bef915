package io.sluice.spring.http;

import io.sluice.http.ConnectionPoolManager;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpRequestFactory;

/**
 * A {@link ClientHttpRequestFactory} for {@code RestClient} and {@code RestTemplate} over a Sluice
 * {@link ConnectionPoolManager}: pooled HTTP/1.1 and HTTP/2 connections, Sluice's timeouts, status retries and
 * transport replays.
 *
 * <pre>{@code
 * RestClient rest = RestClient.builder().requestFactory(new SluiceClientHttpRequestFactory(manager)).build();
 * }</pre>
 *
 * <p>Response bodies are not buffered: {@code getBody()} is a live stream over the response's chunks, each released
 * as soon as it is read, so a server-sent-event stream can be read event by event. Request bodies are streamed too:
 * what Spring writes to the request's output stream goes out in chunks of 16 KiB, or at each {@code flush()}, while
 * it is being written (on a writer thread from {@link #bodyWriter(Executor)}); a small body Spring marks repeatable
 * and whose length it declares is sent as bytes instead, which costs no thread. A streamed body that Spring does not
 * mark repeatable is written once: a replay that would need it again fails instead.
 *
 * <p>Redirects are not followed (Sluice does not follow them). Timeouts: {@link #readTimeout(Duration)} bounds the
 * wait for the response head and each gap in its body; {@link #connectTimeout(Duration)} bounds the wait for a
 * pooled connection (including a new one's connect); unset, the manager's defaults apply.
 *
 * <p><b>Thread-safety:</b> thread-safe once configured; share one. Each {@link ClientHttpRequest} it creates is for
 * one thread. <b>Ownership:</b> does not own the manager: closing the manager (Spring does, for the auto-configured
 * one) is its owner's job, and requests made after that fail. A response holds its pool slot until its body is read
 * to the end or it is closed.
 */
public final class SluiceClientHttpRequestFactory implements ClientHttpRequestFactory {

    /** Small repeatable bodies of declared length are sent as bytes: no writer thread, replayable at no cost. */
    static final long BYTES_BODY_LIMIT = 64 * 1024;

    private final ConnectionPoolManager manager;
    private volatile Duration readTimeout;
    private volatile Duration connectTimeout;
    private volatile Executor bodyWriter = SluiceClientHttpRequestFactory::newWriterThread;

    /** A factory over {@code manager}, which stays the caller's. */
    public SluiceClientHttpRequestFactory(ConnectionPoolManager manager) {
        this.manager = Objects.requireNonNull(manager, "manager");
    }

    /** The longest wait for the response head and for each piece of its body; null for the manager's default. */
    public SluiceClientHttpRequestFactory readTimeout(Duration timeout) {
        this.readTimeout = timeout;
        return this;
    }

    /** The longest wait for a pooled connection, a new one's connect included; null for the manager's default. */
    public SluiceClientHttpRequestFactory connectTimeout(Duration timeout) {
        this.connectTimeout = timeout;
        return this;
    }

    /**
     * Where streamed request bodies are written (one task per body, blocked while the network is slower than the
     * writer). By default a new daemon thread per streamed body; pass a pool you own and close to bound them.
     */
    public SluiceClientHttpRequestFactory bodyWriter(Executor executor) {
        this.bodyWriter = Objects.requireNonNull(executor, "executor");
        return this;
    }

    /** The manager requests go through. */
    public ConnectionPoolManager manager() {
        return manager;
    }

    @Override
    public ClientHttpRequest createRequest(URI uri, HttpMethod httpMethod) {
        return new SluiceClientHttpRequest(manager, uri, httpMethod, readTimeout, connectTimeout, bodyWriter);
    }

    private static void newWriterThread(Runnable task) {
        Thread t = new Thread(task, "sluice-body-writer");
        t.setDaemon(true); // a body a server never reads must not keep the JVM alive
        t.start();
    }
}

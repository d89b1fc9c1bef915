package io.sluice.tracing.micrometer;

import io.micrometer.observation.transport.RequestReplySenderContext;
import io.sluice.http.CallListener;
import io.sluice.http.HttpRequest;
import io.sluice.http.Protocol;
import io.sluice.http.Route;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Micrometer Observation context of one Sluice request: what a convention names and tags it by. The
 * carrier is the set of fields a tracing handler propagates (e.g. {@code traceparent}); Sluice copies them
 * onto every attempt's request headers. The response is the status code of the answer handed to the
 * caller (null until then).
 *
 * <p><b>Thread-safety:</b> written by one call's events, which come one at a time, each happening-before
 * the next; read by observation handlers within those events.
 */
public final class SluiceRequestContext extends RequestReplySenderContext<Map<String, String>, Integer> {

    private final Route route;
    private final HttpRequest request;
    private volatile Protocol protocol;
    private volatile CallListener.Phase failedIn;
    private volatile boolean cancelled;
    private volatile int resends;

    SluiceRequestContext(Route route, HttpRequest request) {
        super((carrier, key, value) -> {
            if (carrier != null) {
                carrier.put(key, value);
            }
        });
        this.route = route;
        this.request = request;
        setCarrier(new LinkedHashMap<>());
        setRemoteServiceAddress(route.host() + ":" + route.port());
    }

    public Route route() {
        return route;
    }

    /** The caller's request (after the per-call interceptors). */
    public HttpRequest request() {
        return request;
    }

    /** The protocol of the last attempt's connection; null before a connection was leased. */
    public Protocol protocol() {
        return protocol;
    }

    void protocol(Protocol p) {
        this.protocol = p;
    }

    /** Where the call failed, or null. */
    public CallListener.Phase failedIn() {
        return failedIn;
    }

    void failedIn(CallListener.Phase phase) {
        this.failedIn = phase;
    }

    /** Whether the caller cancelled the call or closed its response before the end. */
    public boolean cancelled() {
        return cancelled;
    }

    void cancelled(boolean c) {
        this.cancelled = c;
    }

    /** Attempts after the first (replays and status retries). */
    public int resends() {
        return resends;
    }

    void resends(int n) {
        this.resends = n;
    }
}

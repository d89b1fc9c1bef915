package io.sluice.spring.boot;

import io.sluice.http.HttpRequest;
import io.sluice.http.RequestInterceptor;
import io.sluice.http.Route;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A call interceptor on the auto-configured manager that tells listeners (the metrics binder) about each route the
 * first time a request uses it: the manager opens route pools lazily and has no event for it. Its cost per call is
 * one set look-up. Thread-safe; holds routes only.
 */
final class SluiceRouteWatcher implements RequestInterceptor {

    private final Set<Route> seen = ConcurrentHashMap.newKeySet();
    private final List<Consumer<Route>> listeners = new CopyOnWriteArrayList<>();

    @Override
    public HttpRequest intercept(HttpRequest request) {
        Route route = request.route();
        if (!seen.contains(route) && seen.add(route)) {
            for (Consumer<Route> l : listeners) {
                l.accept(route);
            }
        }
        return request;
    }

    /** Calls {@code listener} for each route first used from now on (routes already open are the caller's to read). */
    void onNewRoute(Consumer<Route> listener) {
        listeners.add(listener);
    }
}

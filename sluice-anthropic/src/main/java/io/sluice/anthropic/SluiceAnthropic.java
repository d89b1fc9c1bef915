package io.sluice.anthropic;

import com.anthropic.backends.AnthropicBackend;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.AnthropicClientImpl;
import com.anthropic.core.ClientOptions;
import com.anthropic.core.Timeout;
import io.sluice.http.ConnectionPoolManager;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One call to an {@link AnthropicClient} that runs over Sluice's pools:
 *
 * <pre>{@code
 * ConnectionPoolManager pools = SluiceAnthropic.poolManagerBuilder().build(); // share it
 * AnthropicClient client = SluiceAnthropic.builder()
 *         .poolManager(pools)
 *         .apiKey(System.getenv("ANTHROPIC_API_KEY"))
 *         .build();
 * }</pre>
 *
 * <p>The client is assembled as the SDK's own builders assemble one for a custom transport:
 * {@code ClientOptions.builder().httpClient(transport)}, the backend's base URL and credentials
 * applied with {@link AnthropicBackend#applyCredentials}, then {@code new AnthropicClientImpl(options)}.
 * The SDK keeps its retries ({@code maxRetries}, 2 by default); the pool manager must not retry
 * statuses as well, which is what {@link #poolManagerBuilder()} sets up and what the builder does
 * when it creates a manager itself.
 *
 * <p><b>Thread-safety:</b> the static methods are thread-safe; a {@link Builder} is not.
 * <b>Ownership:</b> a manager passed to {@link Builder#poolManager} stays the caller's (closing the
 * client releases only its own exchanges); without one the client creates and owns a manager and
 * closes it with the client.
 */
public final class SluiceAnthropic {

    private SluiceAnthropic() {
    }

    /**
     * A manager builder for SDK transports: Sluice's status retries off (the SDK retries 429/5xx
     * itself, honouring {@code retry-after-ms}), transport retries on. Add TLS, pool sizes and
     * timeouts as usual.
     */
    public static ConnectionPoolManager.Builder poolManagerBuilder() {
        return ConnectionPoolManager.builder().statusRetries(false);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds an {@link AnthropicClient} over Sluice. Defaults: the backend built from
     * {@link #apiKey}/{@link #authToken}/{@link #baseUrl} (the SDK's production URL unless set),
     * the SDK's timeouts and retries.
     *
     * <p><b>Thread-safety:</b> not thread-safe; confine to one thread.
     */
    public static final class Builder {
        private ConnectionPoolManager pools;
        private io.sluice.http.TlsOptions tls;
        private AnthropicBackend backend;
        private final AnthropicBackend.Builder backendBuilder = AnthropicBackend.builder();
        private boolean backendFieldsSet;
        private Integer maxRetries;
        private Timeout timeout;
        private Consumer<ClientOptions.Builder> options = o -> { };

        private Builder() {
        }

        /**
         * TLS for the manager this client builds and owns (a private CA, a client certificate, key
         * stores; see {@link io.sluice.http.TlsOptions}). Not with {@link #poolManager}: a shared
         * manager has its own TLS settings.
         */
        public Builder tls(io.sluice.http.TlsOptions tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /** A shared manager (build it with {@link #poolManagerBuilder()}); it stays open when the client closes. */
        public Builder poolManager(ConnectionPoolManager pools) {
            this.pools = Objects.requireNonNull(pools, "pools");
            return this;
        }

        /** A complete backend (credentials and base URL); excludes {@link #apiKey}, {@link #authToken}, {@link #baseUrl}. */
        public Builder backend(AnthropicBackend backend) {
            this.backend = Objects.requireNonNull(backend, "backend");
            return this;
        }

        public Builder apiKey(String apiKey) {
            backendBuilder.apiKey(apiKey);
            backendFieldsSet = true;
            return this;
        }

        public Builder authToken(String authToken) {
            backendBuilder.authToken(authToken);
            backendFieldsSet = true;
            return this;
        }

        /** The API's base URL, e.g. {@code https://api.anthropic.com}. */
        public Builder baseUrl(String baseUrl) {
            backendBuilder.baseUrl(baseUrl);
            backendFieldsSet = true;
            return this;
        }

        /** Reads {@code ANTHROPIC_API_KEY}, {@code ANTHROPIC_AUTH_TOKEN}, {@code ANTHROPIC_BASE_URL} as the SDK does. */
        public Builder fromEnv() {
            backendBuilder.fromEnv();
            backendFieldsSet = true;
            return this;
        }

        /** The SDK's retries after the first attempt (its default is 2). */
        public Builder maxRetries(int maxRetries) {
            this.maxRetries = maxRetries;
            return this;
        }

        /** The SDK's default timeouts for every call; a call's {@code RequestOptions} may override them. */
        public Builder timeout(Timeout timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** Shorthand for {@code timeout(Timeout.builder().request(d).build())}: read defaults to request. */
        public Builder timeout(Duration request) {
            return timeout(Timeout.builder().request(request).build());
        }

        /** Anything else on the SDK's {@link ClientOptions.Builder} (headers, executors, log level...), applied last but one. */
        public Builder clientOptions(Consumer<ClientOptions.Builder> options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        public AnthropicClient build() {
            if (pools != null && tls != null) {
                throw new IllegalStateException("tls(..) configures the manager this client owns; a shared poolManager(..) "
                        + "has its own TLS settings: set them on its builder");
            }
            if (backend != null && backendFieldsSet) {
                throw new IllegalStateException("set either backend(..) or apiKey/authToken/baseUrl/fromEnv, not both");
            }
            AnthropicBackend b = backend != null ? backend : backendBuilder.build();
            SluiceAnthropicHttpClient transport = pools != null
                    ? SluiceAnthropicHttpClient.create(pools, b)
                    : SluiceAnthropicHttpClient.owning(ownedManager(), b);
            try {
                ClientOptions.Builder o = ClientOptions.builder().httpClient(transport).baseUrl(b.baseUrl());
                if (maxRetries != null) {
                    o.maxRetries(maxRetries);
                }
                if (timeout != null) {
                    o.timeout(timeout);
                }
                options.accept(o);
                b.applyCredentials(transport, o); // last, as in the SDK: a profile's base URL may override
                return new AnthropicClientImpl(o.build());
            } catch (RuntimeException e) {
                transport.close();
                throw e;
            }
        }

        private ConnectionPoolManager ownedManager() {
            ConnectionPoolManager.Builder b = poolManagerBuilder();
            if (tls != null) {
                b.tls(tls);
            }
            return b.build();
        }
    }
}

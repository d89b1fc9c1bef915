package io.sluice.openai;

import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientImpl;
import com.openai.core.ClientOptions;
import com.openai.core.Timeout;
import io.sluice.http.ConnectionPoolManager;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One call to an {@link OpenAIClient} that runs over Sluice's pools:
 *
 * <pre>{@code
 * ConnectionPoolManager pools = SluiceOpenAI.poolManagerBuilder().build(); // share it
 * OpenAIClient client = SluiceOpenAI.builder()
 *         .poolManager(pools)
 *         .apiKey(System.getenv("OPENAI_API_KEY"))
 *         .build();
 * }</pre>
 *
 * <p>The client is assembled as the SDK's own builder assembles one:
 * {@code ClientOptions.builder().httpClient(transport).apiKey(..).baseUrl(..)}, then
 * {@code new OpenAIClientImpl(options)}. The SDK keeps its retries ({@code maxRetries}, 2 by
 * default); the pool manager must not retry statuses as well, which is what
 * {@link #poolManagerBuilder()} sets up and what the builder does when it creates a manager itself.
 *
 * <p><b>Thread-safety:</b> the static methods are thread-safe; a {@link Builder} is not.
 * <b>Ownership:</b> a manager passed to {@link Builder#poolManager} stays the caller's (closing the
 * client releases only its own exchanges); without one the client creates and owns a manager and
 * closes it with the client.
 */
public final class SluiceOpenAI {

    private SluiceOpenAI() {
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
     * Builds an {@link OpenAIClient} over Sluice with the SDK's defaults for everything not set
     * (base URL {@code https://api.openai.com/v1}, timeouts, 2 retries).
     *
     * <p><b>Thread-safety:</b> not thread-safe; confine to one thread.
     */
    public static final class Builder {
        private ConnectionPoolManager pools;
        private io.sluice.http.TlsOptions tls;
        private String apiKey;
        private String baseUrl;
        private boolean fromEnv;
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

        public Builder apiKey(String apiKey) {
            this.apiKey = Objects.requireNonNull(apiKey, "apiKey");
            return this;
        }

        /** The API's base URL, e.g. {@code https://api.openai.com/v1}. */
        public Builder baseUrl(String baseUrl) {
            this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
            return this;
        }

        /** Reads {@code OPENAI_API_KEY}, {@code OPENAI_BASE_URL} and the rest as the SDK's {@code fromEnv()} does; explicit values win. */
        public Builder fromEnv() {
            this.fromEnv = true;
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

        /** Anything else on the SDK's {@link ClientOptions.Builder} (organization, headers, executors...), applied last. */
        public Builder clientOptions(Consumer<ClientOptions.Builder> options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        public OpenAIClient build() {
            if (pools != null && tls != null) {
                throw new IllegalStateException("tls(..) configures the manager this client owns; a shared poolManager(..) "
                        + "has its own TLS settings: set them on its builder");
            }
            SluiceOpenAIHttpClient transport = pools != null
                    ? SluiceOpenAIHttpClient.create(pools)
                    : SluiceOpenAIHttpClient.owning(ownedManager());
            try {
                ClientOptions.Builder o = ClientOptions.builder().httpClient(transport);
                if (fromEnv) {
                    o.fromEnv();
                }
                if (apiKey != null) {
                    o.apiKey(apiKey);
                }
                if (baseUrl != null) {
                    o.baseUrl(baseUrl);
                }
                if (maxRetries != null) {
                    o.maxRetries(maxRetries);
                }
                if (timeout != null) {
                    o.timeout(timeout);
                }
                options.accept(o);
                return new OpenAIClientImpl(o.build());
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

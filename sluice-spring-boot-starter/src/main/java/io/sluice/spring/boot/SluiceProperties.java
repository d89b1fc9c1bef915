package io.sluice.spring.boot;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code sluice.*} properties: how the shared {@link io.sluice.http.ConnectionPoolManager} is built
 * (pool sizes, timeouts, HTTP/2, status retries, proxy, TLS through a Spring Boot SSL bundle), whether the
 * Spring HTTP clients run over it, and the official SDK clients' API keys and base URLs. Everything not set
 * keeps Sluice's own default (the same as {@code ConnectionPoolManager.builder()}; {@code SluicePropertiesTest} checks the defaults agree). What the properties do not
 * cover goes through a {@link SluiceClientCustomizer} bean.
 *
 * <p><b>Thread-safety:</b> a mutable JavaBean bound once by Spring at start-up and read while the beans are
 * created; not for changing afterwards. <b>Ownership:</b> holds values only (the API keys included: they are
 * never logged by Sluice).
 */
@ConfigurationProperties(prefix = "sluice")
public class SluiceProperties {

    private final Pool pool = new Pool();
    private final Timeouts timeouts = new Timeouts();
    private final Http2 http2 = new Http2();
    private final Retries retries = new Retries();
    private final Proxy proxy = new Proxy();
    private final Tls tls = new Tls();
    private final Shutdown shutdown = new Shutdown();
    private final HttpClients httpClients = new HttpClients();
    private final Sdk openai = new Sdk();
    private final Sdk anthropic = new Sdk();
    private final SpringAi springAi = new SpringAi();
    private final Observations observations = new Observations();
    private final RateLimits rateLimits = new RateLimits();

    /** Speak HTTP/2 without TLS (prior knowledge) on http:// routes; off: http:// routes speak HTTP/1.1. */
    private boolean h2cPriorKnowledge;

    /** Offer only http/1.1 in ALPN, so HTTPS routes speak HTTP/1.1 even to HTTP/2 servers. */
    private boolean http1Only;

    /** Ask for gzip/deflate and inflate answers transparently. */
    private boolean decompressResponses = true;

    /** Event loop threads; 0 for Netty's default (twice the cores). */
    private int ioThreads;

    public Pool getPool() {
        return pool;
    }

    public Timeouts getTimeouts() {
        return timeouts;
    }

    public Http2 getHttp2() {
        return http2;
    }

    public Retries getRetries() {
        return retries;
    }

    public Proxy getProxy() {
        return proxy;
    }

    public Tls getTls() {
        return tls;
    }

    public Shutdown getShutdown() {
        return shutdown;
    }

    public HttpClients getHttpClients() {
        return httpClients;
    }

    public Sdk getOpenai() {
        return openai;
    }

    public Sdk getAnthropic() {
        return anthropic;
    }

    public Observations getObservations() {
        return observations;
    }

    public SpringAi getSpringAi() {
        return springAi;
    }

    public RateLimits getRateLimits() {
        return rateLimits;
    }

    public boolean isH2cPriorKnowledge() {
        return h2cPriorKnowledge;
    }

    public void setH2cPriorKnowledge(boolean h2cPriorKnowledge) {
        this.h2cPriorKnowledge = h2cPriorKnowledge;
    }

    public boolean isHttp1Only() {
        return http1Only;
    }

    public void setHttp1Only(boolean http1Only) {
        this.http1Only = http1Only;
    }

    public boolean isDecompressResponses() {
        return decompressResponses;
    }

    public void setDecompressResponses(boolean decompressResponses) {
        this.decompressResponses = decompressResponses;
    }

    public int getIoThreads() {
        return ioThreads;
    }

    public void setIoThreads(int ioThreads) {
        this.ioThreads = ioThreads;
    }

    /** Each route's connection pool ({@link io.sluice.pool.PoolConfig}). */
    public static class Pool {
        /** Most connections per route. */
        private int maxConnections = 100;
        /** Connections per route kept open and warm. */
        private int minIdle = 10;
        /** A connection is replaced after this long. */
        private Duration maxLifetime = Duration.ofSeconds(300);
        /** A connection above min-idle unused this long is closed. */
        private Duration idleTimeout = Duration.ofSeconds(90);
        /** How long a request waits for a connection (and, by default, one connect attempt). */
        private Duration connectionTimeout = Duration.ofSeconds(10);
        /** Most requests waiting for a connection per route; more fail at once. */
        private int maxPending = 10_000;

        public int getMaxConnections() {
            return maxConnections;
        }

        public void setMaxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
        }

        public int getMinIdle() {
            return minIdle;
        }

        public void setMinIdle(int minIdle) {
            this.minIdle = minIdle;
        }

        public Duration getMaxLifetime() {
            return maxLifetime;
        }

        public void setMaxLifetime(Duration maxLifetime) {
            this.maxLifetime = maxLifetime;
        }

        public Duration getIdleTimeout() {
            return idleTimeout;
        }

        public void setIdleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
        }

        public Duration getConnectionTimeout() {
            return connectionTimeout;
        }

        public void setConnectionTimeout(Duration connectionTimeout) {
            this.connectionTimeout = connectionTimeout;
        }

        public int getMaxPending() {
            return maxPending;
        }

        public void setMaxPending(int maxPending) {
            this.maxPending = maxPending;
        }
    }

    /** Default per-request time bounds ({@link io.sluice.http.Timeouts}); a request may override them. */
    public static class Timeouts {
        /** One connect: DNS, TCP, TLS and the server's first SETTINGS; unset: the pool's connection-timeout. */
        private Duration connect;
        /** From sending a request to its response headers. */
        private Duration headers = Duration.ofSeconds(30);
        /** The longest gap between two response body bytes. */
        private Duration bodyIdle = Duration.ofSeconds(30);
        /** The whole exchange, streamed body included; unset: none (AI streams run long). */
        private Duration total;

        public Duration getConnect() {
            return connect;
        }

        public void setConnect(Duration connect) {
            this.connect = connect;
        }

        public Duration getHeaders() {
            return headers;
        }

        public void setHeaders(Duration headers) {
            this.headers = headers;
        }

        public Duration getBodyIdle() {
            return bodyIdle;
        }

        public void setBodyIdle(Duration bodyIdle) {
            this.bodyIdle = bodyIdle;
        }

        public Duration getTotal() {
            return total;
        }

        public void setTotal(Duration total) {
            this.total = total;
        }
    }

    /** HTTP/2 settings ({@link io.sluice.http.Http2Settings}). */
    public static class Http2 {
        /** Our cap on concurrent streams per connection (the effective one is the lower of this and the server's). */
        private int maxConcurrentStreams = 100;
        /** The receive window each new stream starts with, in bytes. */
        private int initialStreamWindow = 65_536;
        /** The receive window each new connection starts with, in bytes (at least 65535). */
        private int connectionWindow = 131_072;
        /** Grow the windows from a bandwidth-delay estimate. */
        private boolean adaptiveWindow = true;
        /** The largest window the adaptive estimate may set, in bytes. */
        private int maxWindow = 16_777_216;
        /** An idle connection sends a keepalive PING this often. */
        private Duration pingInterval = Duration.ofSeconds(30);
        /** A PING unanswered this long marks the connection broken. */
        private Duration pingTimeout = Duration.ofSeconds(5);

        public int getMaxConcurrentStreams() {
            return maxConcurrentStreams;
        }

        public void setMaxConcurrentStreams(int maxConcurrentStreams) {
            this.maxConcurrentStreams = maxConcurrentStreams;
        }

        public int getInitialStreamWindow() {
            return initialStreamWindow;
        }

        public void setInitialStreamWindow(int initialStreamWindow) {
            this.initialStreamWindow = initialStreamWindow;
        }

        public int getConnectionWindow() {
            return connectionWindow;
        }

        public void setConnectionWindow(int connectionWindow) {
            this.connectionWindow = connectionWindow;
        }

        public boolean isAdaptiveWindow() {
            return adaptiveWindow;
        }

        public void setAdaptiveWindow(boolean adaptiveWindow) {
            this.adaptiveWindow = adaptiveWindow;
        }

        public int getMaxWindow() {
            return maxWindow;
        }

        public void setMaxWindow(int maxWindow) {
            this.maxWindow = maxWindow;
        }

        public Duration getPingInterval() {
            return pingInterval;
        }

        public void setPingInterval(Duration pingInterval) {
            this.pingInterval = pingInterval;
        }

        public Duration getPingTimeout() {
            return pingTimeout;
        }

        public void setPingTimeout(Duration pingTimeout) {
            this.pingTimeout = pingTimeout;
        }
    }

    /** Each request as a Micrometer Observation (a timer, and a span with a tracing bridge), when a registry exists. */
    public static class Observations {
        /** Observe the requests of the auto-configured client. */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /**
     * Sluice's status retries (429 and 503 for any request, other 5xx for idempotent ones, honouring
     * retry-after-ms). The SDK clients retry on their own and turn these off for their requests.
     */
    public static class Retries {
        /** Status retries on or off. */
        private boolean enabled = true;
        /** Retries after the first attempt. */
        private int maxRetries = 3;
        /** The first backoff; it doubles up to max-backoff. */
        private Duration initialBackoff = Duration.ofMillis(500);
        /** The longest backoff. */
        private Duration maxBackoff = Duration.ofSeconds(8);

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public int getMaxRetries() {
            return maxRetries;
        }

        public void setMaxRetries(int maxRetries) {
            this.maxRetries = maxRetries;
        }

        public Duration getInitialBackoff() {
            return initialBackoff;
        }

        public void setInitialBackoff(Duration initialBackoff) {
            this.initialBackoff = initialBackoff;
        }

        public Duration getMaxBackoff() {
            return maxBackoff;
        }

        public void setMaxBackoff(Duration maxBackoff) {
            this.maxBackoff = maxBackoff;
        }
    }

    /** A forward proxy ({@link io.sluice.http.ProxyOptions}); none unless host is set or from-environment is on. */
    public static class Proxy {
        /** HTTP (CONNECT) or SOCKS5. */
        private io.sluice.http.ProxyOptions.Type type = io.sluice.http.ProxyOptions.Type.HTTP;
        /** The proxy's host; unset: no proxy (unless from-environment). */
        private String host;
        /** The proxy's port. */
        private int port;
        /** Proxy user name, if it asks for credentials. */
        private String username;
        /** Proxy password. */
        private String password;
        /** Hosts reached directly (suffix match, as in NO_PROXY). */
        private List<String> noProxy = new ArrayList<>();
        /** Read HTTPS_PROXY / NO_PROXY from the environment when host is not set. */
        private boolean fromEnvironment;

        public io.sluice.http.ProxyOptions.Type getType() {
            return type;
        }

        public void setType(io.sluice.http.ProxyOptions.Type type) {
            this.type = type;
        }

        public String getHost() {
            return host;
        }

        public void setHost(String host) {
            this.host = host;
        }

        public int getPort() {
            return port;
        }

        public void setPort(int port) {
            this.port = port;
        }

        public String getUsername() {
            return username;
        }

        public void setUsername(String username) {
            this.username = username;
        }

        public String getPassword() {
            return password;
        }

        public void setPassword(String password) {
            this.password = password;
        }

        public List<String> getNoProxy() {
            return noProxy;
        }

        public void setNoProxy(List<String> noProxy) {
            this.noProxy = noProxy;
        }

        public boolean isFromEnvironment() {
            return fromEnvironment;
        }

        public void setFromEnvironment(boolean fromEnvironment) {
            this.fromEnvironment = fromEnvironment;
        }
    }

    /** TLS: the system trust store unless a Spring Boot SSL bundle (spring.ssl.bundle.*) is named. */
    public static class Tls {
        /** The name of the SSL bundle whose trust (and key, for mutual TLS) material Sluice uses. */
        private String bundle;
        /** Re-read the TLS material this often (a rotated bundle reaches new connections); unset: never. */
        private Duration reloadInterval;

        public String getBundle() {
            return bundle;
        }

        public void setBundle(String bundle) {
            this.bundle = bundle;
        }

        public Duration getReloadInterval() {
            return reloadInterval;
        }

        public void setReloadInterval(Duration reloadInterval) {
            this.reloadInterval = reloadInterval;
        }
    }

    /** What happens when the application context closes. */
    public static class Shutdown {
        /**
         * How long the context's close waits for requests still running on Sluice (streams included) before
         * the manager closes and cuts them; 0 closes at once.
         */
        private Duration drainTimeout = Duration.ofSeconds(30);

        public Duration getDrainTimeout() {
            return drainTimeout;
        }

        public void setDrainTimeout(Duration drainTimeout) {
            this.drainTimeout = drainTimeout;
        }
    }

    /** Spring's HTTP clients (RestClient, RestTemplate, WebClient) over Sluice. */
    public static class HttpClients {
        /**
         * Offer Sluice as Boot's ClientHttpRequestFactoryBuilder and ClientHttpConnectorBuilder, so the
         * auto-configured RestClient.Builder, RestTemplateBuilder and WebClient.Builder use it. It steps aside
         * when spring.http.clients.imperative.factory / reactive.connector choose another client.
         */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /** One official SDK client (com.openai:openai-java-core or com.anthropic:anthropic-java-core). */
    public static class Sdk {
        /** Define the client bean when the SDK is on the classpath. */
        private boolean enabled = true;
        /** The API key; unset: the SDK reads its environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY). */
        private String apiKey;
        /** The API's base URL; unset: the SDK's (https://api.openai.com/v1, https://api.anthropic.com). */
        private String baseUrl;
        /** The SDK's own retries (it honours retry-after-ms); unset: the SDK's default (2). */
        private Integer maxRetries;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public String getApiKey() {
            return apiKey;
        }

        public void setApiKey(String apiKey) {
            this.apiKey = apiKey;
        }

        public String getBaseUrl() {
            return baseUrl;
        }

        public void setBaseUrl(String baseUrl) {
            this.baseUrl = baseUrl;
        }

        public Integer getMaxRetries() {
            return maxRetries;
        }

        public void setMaxRetries(Integer maxRetries) {
            this.maxRetries = maxRetries;
        }
    }

    /** Spring AI's OpenAI and Anthropic chat models over Sluice. */
    public static class SpringAi {
        /** Route Spring AI's OpenAI and Anthropic clients through the shared manager. */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /**
     * Shaping the manager's traffic to the rate limits providers announce, before the 429 (sluice-ratelimit's
     * {@code RateLimiter}; see docs/rate-limits.md). Off unless enabled: shaping makes requests wait or fail.
     */
    public static class RateLimits {
        /** Shape requests to the providers' announced rate limits (needs io.sluice:sluice-ratelimit). */
        private boolean enabled;
        /** What a request whose budget is spent does: wait for room, or fail at once with RateLimitedException. */
        private Mode mode = Mode.WAIT;
        /** In wait mode, a request whose wait would be longer fails at once instead; unset: no bound but the request's deadline. */
        private Duration maxWait;
        private final Fleet fleet = new Fleet();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Mode getMode() {
            return mode;
        }

        public void setMode(Mode mode) {
            this.mode = mode;
        }

        public Duration getMaxWait() {
            return maxWait;
        }

        public void setMaxWait(Duration maxWait) {
            this.maxWait = maxWait;
        }

        public Fleet getFleet() {
            return fleet;
        }

        /**
         * The limiter's modes. The starter's own enum rather than {@code RateLimiter.Mode}, so that binding the
         * {@code sluice.*} properties never loads the optional sluice-ratelimit.
         */
        public enum Mode {
            /** Queue the request until its budget has room (first come, first served). */
            WAIT,
            /** Refuse the request at once with RateLimitedException, nothing sent. */
            FAIL
        }

        /** Fleet mode: the budgets shared through Redis by every process using the same Redis and key prefix. */
        public static class Fleet {
            /**
             * Redis holding the shared budgets (redis://host:port, rediss:// for TLS); setting it turns fleet mode
             * on, and needs com.bucket4j:bucket4j_jdk17-lettuce and io.lettuce:lettuce-core on the classpath.
             */
            private String redisUri;
            /** The prefix of every Redis key: processes share budgets by prefix. */
            private String keyPrefix = "sluice:ratelimit:";
            /** How long one admission waits for Redis before this process's own budget decides instead. */
            private Duration timeout = Duration.ofMillis(100);

            public String getRedisUri() {
                return redisUri;
            }

            public void setRedisUri(String redisUri) {
                this.redisUri = redisUri;
            }

            public String getKeyPrefix() {
                return keyPrefix;
            }

            public void setKeyPrefix(String keyPrefix) {
                this.keyPrefix = keyPrefix;
            }

            public Duration getTimeout() {
                return timeout;
            }

            public void setTimeout(Duration timeout) {
                this.timeout = timeout;
            }
        }
    }
}

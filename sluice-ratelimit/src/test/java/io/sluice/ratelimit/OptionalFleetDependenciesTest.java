package io.sluice.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bucket4j and Lettuce are optional: a local-only limiter is built, asked for stats and closed on a class path
 * without them (a loader that leaves their jars out), while naming RedisBudgets there fails as it should.
 */
class OptionalFleetDependenciesTest {

    @Test
    void aLocalLimiterNeedsNeitherBucket4jNorLettuce() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.contains("lettuce") && !entry.contains("bucket4j") && !entry.contains("reactor-core")) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        try (URLClassLoader withoutRedis = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            Class<?> limiter = Class.forName("io.sluice.ratelimit.RateLimiter", true, withoutRedis);
            Object builder = limiter.getMethod("builder").invoke(null);
            Object built = builder.getClass().getMethod("build").invoke(builder);
            assertThat(limiter.getMethod("stats").invoke(built).toString()).contains("fleetAvailable=false");
            ((AutoCloseable) built).close();
            assertThatThrownBy(() -> Class.forName("io.sluice.ratelimit.RedisFleet", true, withoutRedis))
                    .isInstanceOfAny(NoClassDefFoundError.class, ClassNotFoundException.class);
        }
    }
}

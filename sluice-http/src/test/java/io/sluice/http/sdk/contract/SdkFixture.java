package io.sluice.http.sdk.contract;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.TlsOptions;
import io.sluice.pool.PoolConfig;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import io.sluice.testkit.junit.InjectMock;
import io.sluice.testkit.junit.MockProviderExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the SDK contracts run against: one mock per class that requires {@link #KEY} (started, closed
 * and leak-checked by {@link MockProviderExtension}), and {@link #pools} built by the SDK module's
 * manager builder (status retries left to the SDK), trusting the mock, with two connections at most
 * and one kept warm. One test instance per class, so that the lifecycle methods can ask the subclass.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class SdkFixture {

    protected static final String KEY = "sk-contract-secret";

    @RegisterExtension
    static final MockProviderExtension MOCK = MockProviderExtension.withOptions(
            MockOptions.builder().requiredApiKey(KEY).build());

    @InjectMock
    protected static MockProvider mock;

    protected ConnectionPoolManager pools;

    /** The SDK module's manager builder, e.g. {@code SluiceOpenAI.poolManagerBuilder()}. */
    protected abstract ConnectionPoolManager.Builder poolManagerBuilder();

    @BeforeAll
    void buildPools() {
        pools = poolManagerBuilder()
                .tls(TlsOptions.builder().trustCertificatePem(mock.certificatePem()).build())
                .poolConfig(PoolConfig.builder().maxConnections(2).minIdle(1).build())
                .build();
    }

    @AfterAll
    void closePools() {
        pools.close();
    }
}

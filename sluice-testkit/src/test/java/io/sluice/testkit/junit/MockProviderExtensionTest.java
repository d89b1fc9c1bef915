package io.sluice.testkit.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** The extension seen from the test classes that use it: each nested class here is run through the JUnit launcher. */
class MockProviderExtensionTest {

    @Test
    void oneMockPerClassReachesFieldsParametersAndGetAndIsClosedAfterTheClass() {
        TestExecutionSummary summary = run(DefaultMock.class);

        assertThat(summary.getFailures()).isEmpty();
        assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
        assertThat(DefaultMock.seen).hasSize(4).doesNotContainNull();
        assertThat(DefaultMock.seen).allSatisfy(m -> assertThat(m).isSameAs(DefaultMock.seen.get(0)));
        assertThat(DefaultMock.mock).as("the field after the class").isNull();
        int port = DefaultMock.seen.get(0).tlsPort();
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).as("closed after the class")
                .isInstanceOf(IOException.class);
    }

    @Test
    void eachExtensionStartsItsOwnMockWithItsOptionsAndNamesPickWhichOneIsInjected() {
        TestExecutionSummary summary = run(TwoMocks.class);

        assertThat(summary.getFailures()).isEmpty();
        assertThat(summary.getTestsSucceededCount()).isEqualTo(1);
        List<MockProvider> seen = TwoMocks.seen;
        assertThat(seen).hasSize(8).doesNotContainNull();
        assertThat(seen.get(0)).isNotSameAs(seen.get(1));
        assertThat(seen.get(0).options().requiredApiKey()).isNull();
        assertThat(seen.get(1).options().requiredApiKey()).isEqualTo("sk-two-mocks");
        assertThat(seen.subList(2, 4)).as("parameters").containsExactly(seen.get(0), seen.get(1));
        assertThat(seen.subList(4, 6)).as("get()").containsExactly(seen.get(0), seen.get(1));
        assertThat(seen.subList(6, 8)).as("instance fields").containsExactly(seen.get(0), seen.get(1));
        for (MockProvider m : seen.subList(0, 2)) {
            assertThatThrownBy(() -> new Socket("127.0.0.1", m.tlsPort()).close()).as("closed after the class")
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void aLeakReportedWhileTheClassRunsFailsTheClassAfterItsTests() {
        int before = NettyLeakCheck.leaks();
        try {
            TestExecutionSummary summary = run(Leaking.class);

            assertThat(summary.getTestsSucceededCount()).isEqualTo(1);
            assertThat(summary.getFailures()).singleElement().satisfies(f -> {
                assertThat(f.getTestIdentifier().isContainer()).as("the class failed, not a test").isTrue();
                assertThat(f.getException()).isInstanceOf(AssertionError.class).hasMessageContaining("Netty LEAK report");
            });
            assertThat(Leaking.mock).as("closed and cleared before the check").isNull();
        } finally {
            NettyLeakCheck.forgetLeaksAfter(before); // leaked on purpose: must not fail the classes after this one
        }
    }

    private static TestExecutionSummary run(Class<?> testClass) {
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(request().selectors(selectClass(testClass)).build(), listener);
        return listener.getSummary();
    }

    @ExtendWith(MockProviderExtension.class)
    static class DefaultMock {
        static final List<MockProvider> seen = new CopyOnWriteArrayList<>();
        @InjectMock
        static MockProvider mock;

        @BeforeAll
        static void beforeAll(MockProvider parameter) {
            seen.add(mock);
            seen.add(parameter);
        }

        @Test
        void first(MockProvider parameter) {
            seen.add(parameter);
        }

        @Test
        void second() {
            seen.add(mock);
        }
    }

    /** One instance for the class: the mocks start when it is made, before the {@code @BeforeAll} callbacks. */
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    static class TwoMocks {
        static final List<MockProvider> seen = new CopyOnWriteArrayList<>();
        @RegisterExtension
        static final MockProviderExtension PLAIN = new MockProviderExtension();
        @RegisterExtension
        static final MockProviderExtension KEYED = MockProviderExtension.withOptions(
                MockOptions.builder().requiredApiKey("sk-two-mocks").build()).named("keyed");
        @InjectMock
        static MockProvider plain;
        @InjectMock("keyed")
        static MockProvider keyed;
        @InjectMock
        MockProvider plainInstanceField;
        @InjectMock("keyed")
        MockProvider keyedInstanceField;

        @Test
        void both(MockProvider plainParameter, @InjectMock("keyed") MockProvider keyedParameter) {
            seen.addAll(List.of(plain, keyed, plainParameter, keyedParameter, PLAIN.get(), KEYED.get(),
                    plainInstanceField, keyedInstanceField));
        }
    }

    @ExtendWith(MockProviderExtension.class)
    static class Leaking {
        @InjectMock
        static MockProvider mock;

        @Test
        void leaksOneBuffer() {
            int before = NettyLeakCheck.leaks();
            leakOne();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
                NettyLeakCheck.provokeReports();
                return NettyLeakCheck.leaks() > before;
            });
        }

        private static void leakOne() {
            ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
            b.writeInt(42);
            // dropped without release(), and not marked as deliberate: a real report
        }
    }
}

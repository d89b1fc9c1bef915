package io.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.http.ConnectionPoolManager;
import io.sluice.http.HttpRequest;
import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Review of {@link SluiceDrain} now that it closes the manager with {@code closeGracefully} (branch wip-drain). Each
 * test states what held before the change and should still hold; a failure shows the regression. Plain HTTP to the
 * testkit's mock on loopback.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SluiceDrainLifecycleTest {

    static MockProvider mock;

    final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(SluiceAutoConfiguration.class))
            .withPropertyValues("sluice.pool.min-idle=0", "sluice.shutdown.drain-timeout=10s");

    @BeforeAll
    static void start() {
        mock = MockProvider.start(MockOptions.builder().build());
    }

    @AfterAll
    static void stop() {
        mock.close();
    }

    static HttpRequest ping() {
        return HttpRequest.newBuilder(mock.httpUri().resolve("/ping")).build();
    }

    /** What a call through the manager gives: the status, or the failure's class. */
    static String outcome(ConnectionPoolManager manager) {
        try {
            return "status " + manager.sendBlocking(ping()).status();
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /**
     * A lifecycle that stops after Sluice's (a lower phase: 0, the phase of every plain Lifecycle and a common
     * choice for workers, and Spring Integration's endpoints sit below DEFAULT_PHASE - 4096 too) and makes one last
     * call as it stops: a final flush, a deregistration.
     */
    @Configuration(proxyBeanMethods = false)
    static class LateStopper {
        static final AtomicReference<String> lastCall = new AtomicReference<>();

        @Bean
        SmartLifecycle lateStopper(ConnectionPoolManager manager) {
            return new SmartLifecycle() {
                volatile boolean running;

                @Override
                public void start() {
                    running = true;
                }

                @Override
                public void stop() {
                    running = false;
                    lastCall.set(outcome(manager));
                }

                @Override
                public boolean isRunning() {
                    return running;
                }

                @Override
                public int getPhase() {
                    return 0;
                }
            };
        }
    }

    /**
     * Intended (and so before the change, when the drain only waited): a lifecycle bean that stops after the drain
     * can still use the manager; the manager closes when the context destroys it. Now the drain's closeGracefully
     * refuses every call from the moment Sluice's phase stops, so everything in a lower phase loses Sluice.
     */
    @Test
    void aLifecycleInALowerPhaseCanStillCallAsItStops() {
        LateStopper.lastCall.set(null);
        runner.withUserConfiguration(LateStopper.class).run(context -> {
            assertThat(outcome(context.getBean(ConnectionPoolManager.class))).isEqualTo("status 200");
            context.close();
            assertThat(LateStopper.lastCall.get()).as("the call made by a lifecycle stopping after Sluice's")
                    .isEqualTo("status 200");
        });
    }

    /**
     * Intended (and so before): stop() and start() of a context (Spring Cloud's /pause and /resume endpoints do
     * exactly that) leave it working. Now stop() closes the manager for good and start() cannot reopen it: every
     * call after the resume fails with ClientClosedException.
     */
    @Test
    void aContextStoppedAndStartedAgainKeepsAWorkingManager() {
        runner.run(context -> {
            ConnectionPoolManager manager = context.getBean(ConnectionPoolManager.class);
            assertThat(outcome(manager)).isEqualTo("status 200");
            context.stop();
            context.start();
            assertThat(outcome(manager)).as("a call after stop() and start()").isEqualTo("status 200");
        });
    }

    /**
     * Intended (and so before): closing a child context leaves alone the manager its parent owns. The child's
     * auto-configuration makes a SluiceDrain for the manager it finds in the parent ({@code @ConditionalOnBean}
     * searches ancestors), and that drain now closes the parent's manager when the child closes.
     */
    @Test
    void closingAChildContextLeavesTheParentsManagerOpen() {
        runner.run(parent -> {
            ConnectionPoolManager manager = parent.getBean(ConnectionPoolManager.class);
            new ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(SluiceAutoConfiguration.class))
                    .withPropertyValues("sluice.shutdown.drain-timeout=10s")
                    .withParent(parent)
                    .run(child -> {
                        assertThat(child.getBean(ConnectionPoolManager.class)).isSameAs(manager);
                        assertThat(child.getBeansOfType(SluiceDrain.class)).as("the child's own drain").hasSize(1);
                        ((ConfigurableApplicationContext) child).close();
                    });
            assertThat(outcome(manager)).as("the parent's manager after its child closed").isEqualTo("status 200");
        });
    }
}

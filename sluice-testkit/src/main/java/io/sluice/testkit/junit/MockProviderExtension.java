package io.sluice.testkit.junit;

import io.sluice.testkit.MockOptions;
import io.sluice.testkit.MockProvider;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstancePostProcessor;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;

/**
 * One {@link MockProvider} for a whole test class: started before the class's {@code @BeforeAll}
 * methods, closed after its {@code @AfterAll} methods, then the {@linkplain NettyLeakCheck Netty leak
 * check} (on by default) fails the class if a leaked buffer was reported.
 *
 * <p>With the default options:
 *
 * <pre>{@code
 * @ExtendWith(MockProviderExtension.class)
 * class SomeTest {
 *     @InjectMock
 *     static MockProvider mock;
 * }
 * }</pre>
 *
 * <p>With options of its own (and, for a second mock in the same class, a {@linkplain #named name}):
 *
 * <pre>{@code
 * @RegisterExtension
 * static final MockProviderExtension MOCK = MockProviderExtension.withOptions(
 *         MockOptions.builder().maxConcurrentStreams(256).build());
 * @InjectMock
 * static MockProvider mock;
 * }</pre>
 *
 * <p>The mock reaches the test through {@link InjectMock} fields (static ones are filled before the
 * {@code @BeforeAll} methods, so those can use it), through parameters of type {@code MockProvider}
 * in constructors, lifecycle and test methods, or through {@link #get()}. Nested classes share the
 * enclosing class's mock. Instances are immutable but for the running mock; one instance serves one
 * test class at a time.
 */
public final class MockProviderExtension
        implements BeforeAllCallback, AfterAllCallback, TestInstancePostProcessor, ParameterResolver {

    private final MockOptions options;
    private final String name;
    private final boolean leakCheck;

    private MockProvider mock;
    /** Unique id of the class context that started {@link #mock} and closes it. */
    private String owner;

    /** Default options, leak check on: for {@code @ExtendWith(MockProviderExtension.class)}. */
    public MockProviderExtension() {
        this(MockOptions.defaults(), "", true);
    }

    private MockProviderExtension(MockOptions options, String name, boolean leakCheck) {
        this.options = Objects.requireNonNull(options, "options");
        this.name = Objects.requireNonNull(name, "name");
        this.leakCheck = leakCheck;
    }

    /** An extension whose mock is started with {@code options}; leak check on. */
    public static MockProviderExtension withOptions(MockOptions options) {
        return new MockProviderExtension(options, "", true);
    }

    /** The same extension under a name, for a class with more than one mock; see {@link InjectMock#value()}. */
    public MockProviderExtension named(String name) {
        return new MockProviderExtension(options, name, leakCheck);
    }

    /** The same extension without the leak check after the class. */
    public MockProviderExtension withoutLeakCheck() {
        return new MockProviderExtension(options, name, false);
    }

    /**
     * The running mock.
     *
     * @throws IllegalStateException outside the test class's run
     */
    public synchronized MockProvider get() {
        if (mock == null) {
            throw new IllegalStateException("the mock provider" + label() + " runs only while its test class runs");
        }
        return mock;
    }

    @Override
    public synchronized void beforeAll(ExtensionContext context) {
        start(context);
        for (Field f : mockFields(context.getRequiredTestClass(), true)) {
            set(f, null, mock);
        }
    }

    @Override
    public synchronized void postProcessTestInstance(Object testInstance, ExtensionContext context) {
        start(context); // a PER_CLASS instance is made before beforeAll
        for (Field f : mockFields(testInstance.getClass(), false)) {
            set(f, testInstance, mock);
        }
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) throws Exception {
        if (!classContext(context).getUniqueId().equals(owner)) {
            return; // a nested class: the enclosing class closes the mock
        }
        MockProvider m = mock;
        mock = null;
        owner = null;
        for (Field f : mockFields(context.getRequiredTestClass(), true)) {
            set(f, null, null);
        }
        Throwable failure = null;
        try {
            if (m != null) {
                m.close();
            }
        } catch (Throwable t) {
            failure = t;
        }
        if (leakCheck) {
            try {
                NettyLeakCheck.assertNoLeaks();
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                } else {
                    failure.addSuppressed(t);
                }
            }
        }
        if (failure instanceof Exception e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == MockProvider.class
                && parameter.findAnnotation(InjectMock.class).map(InjectMock::value).orElse("").equals(name);
    }

    @Override
    public synchronized Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        start(context); // a constructor parameter of a PER_CLASS instance is resolved before beforeAll
        return mock;
    }

    private void start(ExtensionContext context) {
        if (mock != null) {
            return;
        }
        if (leakCheck) {
            NettyLeakCheck.install();
        }
        mock = MockProvider.start(options);
        owner = classContext(context).getUniqueId();
    }

    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext c = context;
        while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
            c = c.getParent().get();
        }
        return c;
    }

    private List<Field> mockFields(Class<?> testClass, boolean statics) {
        List<Field> fields = AnnotationSupport.findAnnotatedFields(testClass, InjectMock.class,
                f -> Modifier.isStatic(f.getModifiers()) == statics, HierarchyTraversalMode.TOP_DOWN);
        return fields.stream().filter(f -> f.getAnnotation(InjectMock.class).value().equals(name)).map(f -> {
            if (f.getType() != MockProvider.class || Modifier.isFinal(f.getModifiers())) {
                throw new ExtensionConfigurationException("@InjectMock field " + f + " must be a non-final MockProvider");
            }
            return f;
        }).toList();
    }

    private static void set(Field f, Object target, MockProvider value) {
        try {
            f.setAccessible(true);
            f.set(target, value);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExtensionConfigurationException("cannot set @InjectMock field " + f, e);
        }
    }

    private String label() {
        return name.isEmpty() ? "" : " '" + name + "'";
    }

    @Override
    public String toString() {
        return "MockProviderExtension" + label() + "[" + options + ", leak check " + (leakCheck ? "on" : "off") + "]";
    }
}

package io.sluice.testkit.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a field (static or not) of type {@link io.sluice.testkit.MockProvider} that a {@link
 * MockProviderExtension} fills with its running mock, or a parameter that it resolves. A parameter of
 * that type needs the annotation only to pick a named extension.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.PARAMETER})
public @interface InjectMock {

    /** The {@linkplain MockProviderExtension#named(String) name} of the extension; empty for the unnamed one. */
    String value() default "";
}

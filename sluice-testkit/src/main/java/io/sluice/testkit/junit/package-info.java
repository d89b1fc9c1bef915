/**
 * JUnit 5 support for tests against a {@link io.sluice.testkit.MockProvider}: {@link
 * io.sluice.testkit.junit.MockProviderExtension} starts one mock per test class, injects it and closes
 * it after the class, and {@link io.sluice.testkit.junit.NettyLeakCheck} fails a class when Netty's
 * leak detector reported a leaked buffer.
 *
 * <p>JUnit Jupiter and Logback are {@code provided} dependencies of the testkit: the test classpath
 * that uses this package brings them (the leak check counts Netty's reports through Logback).
 */
package io.sluice.testkit.junit;

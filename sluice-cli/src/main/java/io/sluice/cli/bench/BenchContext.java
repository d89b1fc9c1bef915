package io.sluice.cli.bench;

/**
 * What every phase gets: the options, the target, and the progress line.
 *
 * <p><b>Thread-safety:</b> immutable holder; the parts document their own.
 *
 * @param options  sizes and switches
 * @param target   the server and the client factory
 * @param progress the live progress line
 */
public record BenchContext(BenchOptions options, BenchTarget target, ProgressLine progress) {
}

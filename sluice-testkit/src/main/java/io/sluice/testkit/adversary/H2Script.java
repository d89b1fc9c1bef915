package io.sluice.testkit.adversary;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * What {@link AdversaryH2Server} does with one request stream, as a list of steps run in order
 * on the connection's event loop. Each method returns a new script with one step appended:
 *
 * <pre>{@code
 * H2Script.stream().headers(200).data("ok", true).rstStream(Http2Error.NO_ERROR)
 * H2Script.stream().awaitRequestBody().headers(503, false, "retry-after", "0").data("busy", true)
 * H2Script.stream().awaitRequestBody().closeConnection()
 * }</pre>
 *
 * <p>Frames are written as told: nothing checks them against the protocol or the client's flow
 * control windows, so a script can send what a well-behaved server never would. Steps that act
 * on the connection (GOAWAY, SETTINGS, PING, connection WINDOW_UPDATE, close) affect every
 * stream on it. When the connection closes, the rest of the script is dropped.
 *
 * <p>Immutable and thread-safe; a script may be shared by several streams and servers.
 */
public final class H2Script {
    private static final H2Script EMPTY = new H2Script(List.of());
    private final List<H2Step> steps;

    private H2Script(List<H2Step> steps) {
        this.steps = steps;
    }

    /** An empty script: the stream is left open and unanswered. Append steps to it. */
    public static H2Script stream() {
        return EMPTY;
    }

    /** The script a polite server runs: read the whole request body, then answer 200 "ok". */
    public static H2Script ok() {
        return stream().grantRequestBody().awaitRequestBody().headers(200).data("ok", true);
    }

    List<H2Step> steps() {
        return steps;
    }

    private H2Script then(String name, H2Step.Action action) {
        List<H2Step> next = new ArrayList<>(steps.size() + 1);
        next.addAll(steps);
        next.add(new H2Step(name, action));
        return new H2Script(Collections.unmodifiableList(next));
    }

    private H2Script thenSend(String name, java.util.function.Consumer<H2StreamRun> send) {
        return then(name, run -> {
            send.accept(run);
            run.next();
        });
    }

    /** HEADERS with {@code :status} only, without END_STREAM. */
    public H2Script headers(int status) {
        return headers(status, false);
    }

    /** HEADERS with {@code :status} and header name/value pairs (lower-case names). */
    public H2Script headers(int status, boolean endStream, String... nameValues) {
        Http2Headers h = new DefaultHttp2Headers().status(String.valueOf(status));
        return headerBlock(h, endStream, nameValues);
    }

    /** A HEADERS frame without {@code :status}, e.g. trailers; {@code nameValues} are pairs. */
    public H2Script trailers(boolean endStream, String... nameValues) {
        return headerBlock(new DefaultHttp2Headers(), endStream, nameValues);
    }

    private H2Script headerBlock(Http2Headers h, boolean endStream, String... nameValues) {
        if (nameValues.length % 2 != 0) {
            throw new IllegalArgumentException("header names and values come in pairs: " + Arrays.toString(nameValues));
        }
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return thenSend("HEADERS " + h + (endStream ? " END_STREAM" : ""), run -> run.connection().writeHeaders(
                run.streamId(), h, endStream));
    }

    /** DATA with the UTF-8 bytes of {@code text}. */
    public H2Script data(String text, boolean endStream) {
        return data(text.getBytes(StandardCharsets.UTF_8), endStream);
    }

    /** DATA with {@code bytes} (copied), split into frames of at most 16 384 bytes. */
    public H2Script data(byte[] bytes, boolean endStream) {
        byte[] copy = bytes.clone();
        return thenSend("DATA " + copy.length + (endStream ? " END_STREAM" : ""),
                run -> run.connection().writeData(run.streamId(), copy, endStream));
    }

    /** DATA of {@code size} bytes of {@code 'x'}, split into frames of at most 16 384 bytes. */
    public H2Script data(int size, boolean endStream) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 'x');
        return data(bytes, endStream);
    }

    /** RST_STREAM on this stream with {@code error}. */
    public H2Script rstStream(Http2Error error) {
        return rstStream(error.code());
    }

    /** RST_STREAM on this stream with any code, known or not. */
    public H2Script rstStream(long errorCode) {
        return thenSend("RST_STREAM " + errorCode, run -> run.connection().writeRstStream(run.streamId(), errorCode));
    }

    /** GOAWAY whose last-stream-id is the newest stream the server has seen on this connection. */
    public H2Script goAway(Http2Error error) {
        return thenSend("GOAWAY newest " + error, run -> run.connection().writeGoAway(
                run.connection().newestStreamId(), error.code()));
    }

    /** GOAWAY with any last-stream-id and code. */
    public H2Script goAway(int lastStreamId, long errorCode) {
        return thenSend("GOAWAY " + lastStreamId + " " + errorCode,
                run -> run.connection().writeGoAway(lastStreamId, errorCode));
    }

    /** GOAWAY whose last-stream-id is just below this stream: this stream (and later ones) were "never processed". */
    public H2Script goAwayBelowThisStream(Http2Error error) {
        return thenSend("GOAWAY below this stream " + error,
                run -> run.connection().writeGoAway(Math.max(0, run.streamId() - 2), error.code()));
    }

    /** A SETTINGS frame with {@code settings} (a change of the server's settings). */
    public H2Script settings(Http2Settings settings) {
        Http2Settings copy = new Http2Settings();
        copy.copyFrom(settings);
        return thenSend("SETTINGS " + copy, run -> run.connection().writeSettings(copy));
    }

    /** A PING (not an ACK) with {@code payload}; the client's ACK is recorded on the connection. */
    public H2Script ping(long payload) {
        return thenSend("PING " + payload, run -> run.connection().writePing(payload));
    }

    /** From now on, on every connection of this server, answer (or withhold answers to) the client's PINGs. */
    public H2Script ackPings(boolean on) {
        return thenSend("ackPings " + on, run -> run.connection().server().ackPings(on));
    }

    /** WINDOW_UPDATE on this stream. */
    public H2Script windowUpdate(int increment) {
        return thenSend("WINDOW_UPDATE stream " + increment,
                run -> run.connection().writeWindowUpdate(run.streamId(), increment));
    }

    /** WINDOW_UPDATE on the connection (stream 0). */
    public H2Script connectionWindowUpdate(int increment) {
        return thenSend("WINDOW_UPDATE connection " + increment,
                run -> run.connection().writeWindowUpdate(0, increment));
    }

    /**
     * Grants the client's request body as it arrives: every DATA byte received on this stream, so
     * far and from now on, is given back at once with a stream and a connection WINDOW_UPDATE.
     * Without this step (or {@link #windowUpdate}) the server grants nothing beyond its initial
     * windows.
     */
    public H2Script grantRequestBody() {
        return thenSend("grant request body", H2StreamRun::grantBody);
    }

    /** Raw bytes on the connection, as they are (a malformed frame, garbage). */
    public H2Script raw(byte[] bytes) {
        byte[] copy = bytes.clone();
        return thenSend("raw " + copy.length + " bytes", run -> run.connection().writeRaw(copy));
    }

    /** Waits {@code millis} before the next step. */
    public H2Script pause(long millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("pause must not be negative: " + millis);
        }
        return then("pause " + millis + " ms", run -> run.later(millis));
    }

    /** Waits until the request's END_STREAM (or the client's RST_STREAM for it) arrived. */
    public H2Script awaitRequestBody() {
        return then("await request body", H2StreamRun::afterRequestEnd);
    }

    /** Closes the TCP connection (FIN) without a GOAWAY. */
    public H2Script closeConnection() {
        return then("close connection", run -> run.connection().close(false));
    }

    /** Closes the TCP connection with a reset (SO_LINGER 0, RST) without a GOAWAY. */
    public H2Script resetConnection() {
        return then("reset connection", run -> run.connection().close(true));
    }

    /** This script followed by {@code other}'s steps. */
    public H2Script then(H2Script other) {
        Objects.requireNonNull(other, "other");
        List<H2Step> next = new ArrayList<>(steps);
        next.addAll(other.steps);
        return new H2Script(Collections.unmodifiableList(next));
    }

    @Override
    public String toString() {
        return steps.toString();
    }
}

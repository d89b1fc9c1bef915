package io.sluice.http.sse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.http.LimitExceededException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseParserTest {

    private static final String ROUTE = "https://api.example.com:443";

    // ---- helpers -------------------------------------------------------------------------------------------

    /** Parses the chunks through heap buffers and direct buffers and checks both agree. */
    private static List<SseEvent> parse(byte[]... chunks) {
        List<SseEvent> heap = parseWith(false, chunks);
        List<SseEvent> direct = parseWith(true, chunks);
        assertThat(direct).as("direct buffers parse like heap buffers").isEqualTo(heap);
        return heap;
    }

    private static List<SseEvent> parseWith(boolean direct, byte[]... chunks) {
        SseParser parser = new SseParser(SseParser.DEFAULT_MAX_LINE_BYTES, ROUTE);
        List<SseEvent> events = new ArrayList<>();
        for (byte[] chunk : chunks) {
            parser.feed(buffer(chunk, direct), events::add);
        }
        parser.end();
        return events;
    }

    private static ByteBuffer buffer(byte[] bytes, boolean direct) {
        if (!direct) {
            // an offset view, so arrayOffset() handling is exercised too
            byte[] padded = new byte[bytes.length + 5];
            System.arraycopy(bytes, 0, padded, 3, bytes.length);
            return ByteBuffer.wrap(padded, 3, bytes.length).slice();
        }
        ByteBuffer b = ByteBuffer.allocateDirect(bytes.length);
        b.put(bytes).flip();
        return b;
    }

    private static List<SseEvent> parse(String... chunks) {
        byte[][] bytes = new byte[chunks.length][];
        for (int i = 0; i < chunks.length; i++) {
            bytes[i] = utf8(chunks[i]);
        }
        return parse(bytes);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static SseEvent ev(String type, String data, String id) {
        return new SseEvent(type, data, id, -1);
    }

    // ---- WHATWG spec examples ------------------------------------------------------------------------------

    @Test
    void specExampleMultiLineDataIsJoinedWithNewlines() {
        assertThat(parse("data: YHOO\ndata: +2\ndata: 10\n\n"))
                .containsExactly(SseEvent.message("YHOO\n+2\n10"));
    }

    @Test
    void specExampleCommentsIdsAndLeadingSpaces() {
        String stream = ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n";
        assertThat(parse(stream)).containsExactly(
                ev("message", "first event", "1"),
                ev("message", "second event", null),
                ev("message", " third event", null));
    }

    @Test
    void specExampleEmptyDataAndUnterminatedLastBlock() {
        assertThat(parse("data\n\ndata\ndata\n\ndata:")).containsExactly(
                SseEvent.message(""),
                SseEvent.message("\n"));
    }

    @Test
    void specExampleSpaceAfterColonIsOptional() {
        assertThat(parse("data:test\n\ndata: test\n\n"))
                .containsExactly(SseEvent.message("test"), SseEvent.message("test"));
    }

    // ---- provider streams ----------------------------------------------------------------------------------

    @Test
    void openAiChatCompletionChunksEndWithDone() {
        String c1 = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                + "\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}";
        String c2 = "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}";
        String c3 = "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}";
        String stream = "data: " + c1 + "\n\ndata: " + c2 + "\n\ndata: " + c3 + "\n\ndata: [DONE]\n\n";
        assertThat(parse(stream)).containsExactly(
                SseEvent.message(c1), SseEvent.message(c2), SseEvent.message(c3), SseEvent.message("[DONE]"));
    }

    @Test
    void anthropicMessagesStreamCarriesEventNames() {
        String stream = """
                event: message_start
                data: {"type":"message_start","message":{"id":"msg_1","role":"assistant"}}

                event: ping
                data: {"type": "ping"}

                event: content_block_delta
                data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}

                event: content_block_delta
                data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}

                event: message_stop
                data: {"type":"message_stop"}

                """;
        List<SseEvent> events = parse(stream);
        assertThat(events).extracting(SseEvent::event).containsExactly(
                "message_start", "ping", "content_block_delta", "content_block_delta", "message_stop");
        assertThat(events.get(3).data()).contains("\"text\":\"!\"");
        assertThat(events).allSatisfy(e -> assertThat(e.id()).isNull());
    }

    @Test
    void openAiResponsesStreamCarriesDottedEventNames() {
        String stream = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0}\n\n"
                + "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n"
                + "event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n";
        assertThat(parse(stream)).extracting(SseEvent::event).containsExactly(
                "response.created", "response.output_text.delta", "response.completed");
    }

    // ---- field rules ---------------------------------------------------------------------------------------

    @Test
    void eventTypeResetsAfterEachDispatch() {
        assertThat(parse("event: a\ndata: 1\n\ndata: 2\n\n")).containsExactly(ev("a", "1", null), ev("message", "2", null));
    }

    @Test
    void blockWithoutDataIsNotDispatchedButResetsEventType() {
        assertThat(parse("event: lost\n\ndata: x\n\n")).containsExactly(SseEvent.message("x"));
    }

    @Test
    void emptyEventFieldMeansMessage() {
        assertThat(parse("event:\ndata: x\n\n")).containsExactly(SseEvent.message("x"));
    }

    @Test
    void lastEventFieldOfBlockWins() {
        assertThat(parse("event: a\nevent: b\ndata: x\n\n")).containsExactly(ev("b", "x", null));
    }

    @Test
    void onlyOneLeadingSpaceIsRemovedAndLaterColonsStayInValue() {
        assertThat(parse("data:   two spaces left\n\ndata: a:b: c\n\n"))
                .containsExactly(SseEvent.message("  two spaces left"), SseEvent.message("a:b: c"));
    }

    @Test
    void unknownAndWrongCaseFieldsAreIgnored() {
        assertThat(parse("foo: bar\nData: no\nDATA: no\ndata: yes\nevent\n\n"))
                .containsExactly(SseEvent.message("yes"));
    }

    @Test
    void commentsAreIgnoredAndCountedAsHeartbeats() {
        SseParser parser = new SseParser(ROUTE);
        List<SseEvent> events = parser.feed(ByteBuffer.wrap(utf8(": ping\n:\ndata: x\n: mid-block\n\n: ping\n")));
        assertThat(events).containsExactly(SseEvent.message("x"));
        assertThat(parser.commentLines()).isEqualTo(4);
    }

    @Test
    void trailingNewlineOfDataIsRemovedOnlyOnce() {
        assertThat(parse("data: a\ndata\n\n")).containsExactly(SseEvent.message("a\n"));
    }

    // ---- id and retry ----------------------------------------------------------------------------------------

    @Test
    void idPersistsAcrossEventsUntilChanged() {
        assertThat(parse("id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\n"))
                .containsExactly(ev("message", "a", "7"), ev("message", "b", "7"), ev("message", "c", "8"));
    }

    @Test
    void idSetInBlockWithoutDataStillPersists() {
        assertThat(parse("id: 42\n\ndata: a\n\n")).containsExactly(ev("message", "a", "42"));
    }

    @Test
    void idContainingNulIsIgnored() {
        assertThat(parse("id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n"))
                .containsExactly(ev("message", "a", "1"), ev("message", "b", "1"));
    }

    @Test
    void emptyIdResetsLastEventId() {
        SseParser parser = new SseParser(ROUTE);
        List<SseEvent> events = parser.feed(ByteBuffer.wrap(utf8("id: 1\ndata: a\n\nid:\ndata: b\n\n")));
        assertThat(events).containsExactly(ev("message", "a", "1"), ev("message", "b", null));
        assertThat(parser.lastEventId()).isNull();
    }

    @Test
    void retryAcceptsOnlyAsciiDigitsAndPersists() {
        SseParser parser = new SseParser(ROUTE);
        List<SseEvent> events = parser.feed(ByteBuffer.wrap(utf8(
                "data: before\n\nretry: 3000\n\ndata: a\n\nretry: 30a\nretry: -1\nretry:\nretry: 1 \nretry: \u0661\n"
                        + "retry: 99999999999999999999999\ndata: b\n\nretry:1500\ndata: c\n\n")));
        assertThat(events).extracting(SseEvent::retryMillis).containsExactly(-1L, 3000L, 3000L, 1500L);
        assertThat(parser.retryMillis()).isEqualTo(1500);
    }

    // ---- line endings and BOM -----------------------------------------------------------------------------

    @Test
    void crLfAndCrlfMayBeMixed() {
        assertThat(parse("data: a\rdata: b\r\ndata: c\n\r\ndata: d\r\rdata: e\n\n"))
                .containsExactly(SseEvent.message("a\nb\nc"), SseEvent.message("d"), SseEvent.message("e"));
    }

    @Test
    void crAtEndOfChunkAndLfAtStartOfNextAreOneLineEnding() {
        // Were they two endings, the LF would be a blank line and dispatch "a" alone.
        assertThat(parse("data: a\r", "\ndata: b\r", "\n\r", "\n")).containsExactly(SseEvent.message("a\nb"));
    }

    @Test
    void crAtEndOfChunkFollowedByEmptyChunkStillPairsWithLf() {
        assertThat(parse("data: a\r", "", "\ndata: b\n\n")).containsExactly(SseEvent.message("a\nb"));
    }

    @Test
    void leadingBomIsDroppedEvenWhenSplit() {
        byte[] stream = utf8("\uFEFFdata: x\n\n");
        assertThat(parse(stream)).containsExactly(SseEvent.message("x"));
        assertThat(parse(Arrays.copyOfRange(stream, 0, 1), Arrays.copyOfRange(stream, 1, 2),
                Arrays.copyOfRange(stream, 2, stream.length))).containsExactly(SseEvent.message("x"));
    }

    @Test
    void onlyTheFirstBomIsDropped() {
        // A second BOM (or one on a later line) is part of the field name, which is then unknown.
        assertThat(parse("\uFEFF\uFEFFdata: x\n\ndata: y\n\n")).containsExactly(SseEvent.message("y"));
        assertThat(parse("data: x\n\uFEFFdata: y\n\n")).containsExactly(SseEvent.message("x"));
    }

    @Test
    void multiByteUtf8SplitAcrossChunksAtEveryOffset() {
        String text = "héllo wörld € 😀 日本";
        byte[] stream = utf8("data: " + text + "\n\n");
        for (int i = 0; i <= stream.length; i++) {
            assertThat(parse(Arrays.copyOfRange(stream, 0, i), Arrays.copyOfRange(stream, i, stream.length)))
                    .as("split at %d", i).containsExactly(SseEvent.message(text));
        }
    }

    @Test
    void invalidUtf8DecodesToReplacementCharacter() {
        byte[] stream = {'d', 'a', 't', 'a', ':', ' ', 'a', (byte) 0xFF, 'b', '\n', '\n'};
        assertThat(parse(stream)).containsExactly(SseEvent.message("a\uFFFDb"));
    }

    @Test
    void everySplitIntoTwoAndThreeChunksGivesTheSameEvents() {
        byte[] stream = utf8("\uFEFF: hi\r\nevent: delta\r\nid: é1\rdata: {\"t\":\"日本\"}\n"
                + "data: second\r\n\r\nretry: 250\ndata:x\r\rdata\n\nevent: skip\n\ndata: 😀tail\r\n\r\ndata: cut");
        List<SseEvent> expected = parse(stream);
        assertThat(expected).containsExactly(
                new SseEvent("delta", "{\"t\":\"日本\"}\nsecond", "é1", -1),
                new SseEvent("message", "x", "é1", 250),
                new SseEvent("message", "", "é1", 250),
                new SseEvent("message", "😀tail", "é1", 250));
        for (int i = 0; i <= stream.length; i++) {
            byte[] a = Arrays.copyOfRange(stream, 0, i);
            assertThat(parse(a, Arrays.copyOfRange(stream, i, stream.length))).as("split at %d", i).isEqualTo(expected);
            for (int j = i; j <= stream.length; j++) {
                assertThat(parseWith(j % 2 == 0, a, Arrays.copyOfRange(stream, i, j),
                        Arrays.copyOfRange(stream, j, stream.length)))
                        .as("split at %d and %d", i, j).isEqualTo(expected);
            }
        }
    }

    @Test
    void oneByteChunksGiveTheSameEvents() {
        byte[] stream = utf8("event: e\r\ndata: ü\r\n\r\ndata: 2\r\r");
        byte[][] chunks = new byte[stream.length][];
        for (int i = 0; i < stream.length; i++) {
            chunks[i] = new byte[] {stream[i]};
        }
        assertThat(parse(chunks)).containsExactly(ev("e", "ü", null), SseEvent.message("2")).isEqualTo(parse(stream));
    }

    // ---- end of stream and lifecycle ----------------------------------------------------------------------

    @Test
    void endDiscardsAnIncompleteEventAndReportsIt() {
        SseParser parser = new SseParser(ROUTE);
        assertThat(parser.feed(ByteBuffer.wrap(utf8("data: done\n\ndata: half\n")))).containsExactly(SseEvent.message("done"));
        assertThat(parser.end()).isTrue();
        assertThat(parser.end()).isFalse();
        assertThatThrownBy(() -> parser.feed(ByteBuffer.wrap(utf8("\n")))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("after end()");
    }

    @Test
    void endAfterCompleteEventsReportsNothingDiscarded() {
        SseParser parser = new SseParser(ROUTE);
        parser.feed(ByteBuffer.wrap(utf8("data: a\n\n: bye\n")));
        assertThat(parser.end()).isFalse();
    }

    @Test
    void endDiscardsAnUnterminatedLine() {
        SseParser parser = new SseParser(ROUTE);
        assertThat(parser.feed(ByteBuffer.wrap(utf8("data: a\n\ndata: b")))).hasSize(1);
        assertThat(parser.end()).isTrue();
    }

    @Test
    void feedConsumesTheChunk() {
        ByteBuffer chunk = ByteBuffer.wrap(utf8("data: a\n\ndata: partial"));
        new SseParser(ROUTE).feed(chunk);
        assertThat(chunk.hasRemaining()).isFalse();
    }

    @Test
    void sinkExceptionFailsTheParser() {
        SseParser parser = new SseParser(ROUTE);
        ByteBuffer chunk = ByteBuffer.wrap(utf8("data: a\n\ndata: b\n\n"));
        assertThatThrownBy(() -> parser.feed(chunk, e -> {
            throw new IllegalArgumentException("boom");
        })).hasMessage("boom");
        assertThatThrownBy(() -> parser.feed(ByteBuffer.allocate(0), e -> { }))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("failed");
    }

    // ---- limits ------------------------------------------------------------------------------------------

    @Test
    void lineExactlyAtTheLimitIsAccepted() {
        SseParser parser = new SseParser(16, ROUTE);
        byte[] line = utf8("data: 0123456789"); // 16 bytes
        assertThat(parser.feed(ByteBuffer.wrap(utf8("data: 0123456789\r\n\n")))).containsExactly(SseEvent.message("0123456789"));
        // and when it arrives in pieces, ending in the partial-line buffer
        SseParser split = new SseParser(16, ROUTE);
        split.feed(ByteBuffer.wrap(line, 0, 9));
        split.feed(ByteBuffer.wrap(line, 9, 7));
        assertThat(split.feed(ByteBuffer.wrap(utf8("\n\n")))).containsExactly(SseEvent.message("0123456789"));
    }

    @Test
    void lineOverTheLimitThrowsLimitExceeded() {
        SseParser parser = new SseParser(16, ROUTE);
        assertThatThrownBy(() -> parser.feed(ByteBuffer.wrap(utf8("data: 0123456789A\n\n"))))
                .isInstanceOfSatisfying(LimitExceededException.class, e -> {
                    assertThat(e.limit()).isEqualTo(LimitExceededException.Limit.SSE_LINE);
                    assertThat(e.maxBytes()).isEqualTo(16);
                    assertThat(e.route()).isEqualTo(ROUTE);
                });
        assertThatThrownBy(() -> parser.feed(ByteBuffer.wrap(utf8("\n")))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void overLongLineFailsAsSoonAsTheExcessArrivesWithoutALineEnd() {
        SseParser parser = new SseParser(16, ROUTE);
        parser.feed(ByteBuffer.wrap(utf8("data: 01234")));          // 11 bytes, fine
        assertThatThrownBy(() -> parser.feed(ByteBuffer.wrap(utf8("56789AB")))) // 18: no newline needed to fail
                .isInstanceOf(LimitExceededException.class);
        SseParser direct = new SseParser(16, ROUTE);
        ByteBuffer chunk = ByteBuffer.allocateDirect(17);
        chunk.put(utf8("data: 0123456789A")).flip();
        assertThatThrownBy(() -> direct.feed(chunk)).isInstanceOf(LimitExceededException.class);
    }

    @Test
    void manyDataLinesInOneEventAreBoundedToo() {
        SseParser parser = new SseParser(16, ROUTE);
        assertThatThrownBy(() -> parser.feed(ByteBuffer.wrap(utf8("data: 12345\ndata: 12345\ndata: 12345\n"))))
                .isInstanceOf(LimitExceededException.class);
    }

    @Test
    void lineLimitDoesNotCountTheTerminator() {
        SseParser parser = new SseParser(7, ROUTE);
        assertThat(parser.feed(ByteBuffer.wrap(utf8("data: x\r\n\r\n")))).containsExactly(SseEvent.message("x"));
    }

    @Test
    void rejectsNonPositiveLimit() {
        assertThatThrownBy(() -> new SseParser(0, ROUTE)).isInstanceOf(IllegalArgumentException.class);
    }
}

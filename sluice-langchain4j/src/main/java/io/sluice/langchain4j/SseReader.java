package io.sluice.langchain4j;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.http.client.sse.ServerSentEventContext;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import java.io.IOException;
import java.io.InputStream;

/**
 * Runs LangChain4j's blocking SSE parser over a live body, as its JDK client does: an error
 * status goes to {@code onError} as {@link HttpException} with the body; otherwise
 * {@code onOpen}, the parser's events, and {@code onClose} once the parser returns. Failures the
 * parser reports are mapped to LangChain4j exceptions on the way to the listener.
 *
 * <p><b>Thread-safety:</b> stateless; each call runs on one reader thread.
 */
final class SseReader {

    private SseReader() {
    }

    static void read(ResponseHead head, ServerSentEventParser parser, ServerSentEventListener listener) {
        try (InputStream body = head.body()) {
            if (!head.successful()) {
                HttpException e = new HttpException(head.status(), head.decode(body.readAllBytes()));
                Listeners.safely(() -> listener.onError(e));
                return;
            }
            Listeners.safely(() -> listener.onOpen(head.toResponse(null)));
            parser.parse(body, new MappingListener(listener));
            Listeners.safely(listener::onClose);
        } catch (IOException | RuntimeException e) {
            Listeners.safely(() -> listener.onError(LangChain4jErrors.map(e)));
        }
    }

    /** Passes everything through, mapping the parser's I/O failures to LangChain4j exceptions. */
    private static final class MappingListener implements ServerSentEventListener {
        private final ServerSentEventListener delegate;

        MappingListener(ServerSentEventListener delegate) {
            this.delegate = delegate;
        }

        @Override
        public void onOpen(dev.langchain4j.http.client.SuccessfulHttpResponse response) {
            delegate.onOpen(response);
        }

        @Override
        public void onEvent(ServerSentEvent event, ServerSentEventContext context) {
            delegate.onEvent(event, context);
        }

        @Override
        public void onEvent(ServerSentEvent event) {
            delegate.onEvent(event);
        }

        @Override
        public void onError(Throwable throwable) {
            delegate.onError(LangChain4jErrors.map(throwable));
        }

        @Override
        public void onClose() {
            delegate.onClose();
        }
    }
}

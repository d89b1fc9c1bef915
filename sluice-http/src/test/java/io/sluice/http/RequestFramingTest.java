package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpRequest.BodyPublishers;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;
import org.junit.jupiter.api.Test;

/**
 * The client frames a request body itself. A caller's {@code content-length} that disagrees with the body, or a
 * {@code transfer-encoding} of its own, would have the server read a different message from the one sent (on
 * HTTP/1.1, both Content-Length and chunked: request smuggling), so they are refused before any I/O.
 */
class RequestFramingTest {

    private static final String URI = "http://127.0.0.1:9/v1/x";

    private static Flow.Publisher<ByteBuffer> publisher(String text) {
        return BodyPublishers.ofString(text);
    }

    @Test
    void aContentLengthThatDisagreesWithTheBodyIsRefused() {
        assertThatThrownBy(() -> HttpRequest.newBuilder(URI).POST("hello").header("content-length", "3").build())
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("says 3 but the body has 5");
        assertThatThrownBy(() -> HttpRequest.newBuilder(URI).GET().header("content-length", "7").build())
                .isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> HttpRequest.newBuilder(URI).POST("x").header("content-length", "1")
                .header("content-length", "1").build()).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> HttpRequest.newBuilder(URI).POST("x").header("content-length", "-1").build())
                .isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void aTransferEncodingOfTheCallersIsRefused() {
        assertThatThrownBy(() -> HttpRequest.newBuilder(URI).method("POST").body(publisher("abc"))
                .header("transfer-encoding", "chunked").build()).isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void aMatchingContentLengthIsKeptAndDeclaresTheLengthOfAnUnsizedPublisher() {
        assertThat(HttpRequest.newBuilder(URI).POST("hello").header("content-length", "5").build().contentLength())
                .isEqualTo(5);
        assertThat(HttpRequest.newBuilder(URI).method("POST").body(publisher("abc")).header("content-length", "3")
                .build().contentLength()).isEqualTo(3);
        assertThat(HttpRequest.newBuilder(URI).method("POST").body(publisher("abc")).build().contentLength())
                .isEqualTo(-1);
    }
}

package io.sluice.http.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.sluice.http.InvalidRequestException;
import java.net.URI;
import java.util.AbstractMap.SimpleEntry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestValidatorTest {

    private static final String SECRET = "sk-proj-THIS-IS-SECRET";

    // ---- method ------------------------------------------------------------------------------------------

    @Test
    void standardMethodsAreReturnedUpperCase() {
        assertThat(RequestValidator.validateMethod("POST")).isSameAs("POST");
        assertThat(RequestValidator.validateMethod("get")).isEqualTo("GET");
        assertThat(RequestValidator.validateMethod("Patch")).isEqualTo("PATCH");
    }

    @Test
    void extensionMethodsKeepTheirCase() {
        assertThat(RequestValidator.validateMethod("PROPFIND")).isEqualTo("PROPFIND");
        assertThat(RequestValidator.validateMethod("purge")).isEqualTo("purge");
    }

    @Test
    void emptyOrNonTokenMethodsAreRejected() {
        assertThatThrownBy(() -> RequestValidator.validateMethod("")).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> RequestValidator.validateMethod(null)).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> RequestValidator.validateMethod("GET /evil HTTP/1.1\r\nX:"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("SP").hasMessageContaining("index 3");
        assertThatThrownBy(() -> RequestValidator.validateMethod("PÖST")).isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void connectIsRejected() {
        assertThatThrownBy(() -> RequestValidator.validateMethod("connect")).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("CONNECT");
    }

    // ---- headers ------------------------------------------------------------------------------------------

    @Test
    void tokenHeaderNamesAreAccepted() {
        assertThatCode(() -> RequestValidator.validateHeaderName("x-api-key")).doesNotThrowAnyException();
        assertThatCode(() -> RequestValidator.validateHeaderName("A1!#$%&'*+-.^_`|~")).doesNotThrowAnyException();
    }

    @Test
    void nonTokenHeaderNamesAreRejectedWithoutEchoingThem() {
        for (String bad : List.of("Content-Type:", "Bearer " + SECRET, ":path", "x\r\ny", "naïve", "(comment)")) {
            assertThatThrownBy(() -> RequestValidator.validateHeaderName(bad)).as(bad)
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("RFC 9110 token")
                    .hasMessageNotContaining(SECRET)
                    .hasMessageNotContaining("Content-Type");
        }
        assertThatThrownBy(() -> RequestValidator.validateHeaderName("Content-Type:"))
                .hasMessageContaining("':', 0x3A").hasMessageContaining("index 12");
        assertThatThrownBy(() -> RequestValidator.validateHeaderName("")).isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void crLfAndNulInValuesAreRejectedWithoutEchoingTheValue() {
        String[] bad = {SECRET + "\r\nX-Injected: 1", SECRET + "\n", SECRET + "\u0000", SECRET + "\r"};
        String[] names = {"CR", "LF", "NUL", "CR"};
        for (int i = 0; i < bad.length; i++) {
            String value = bad[i];
            assertThatThrownBy(() -> RequestValidator.validateHeader("Authorization", value))
                    .isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("\"Authorization\"")
                    .hasMessageContaining(names[i] + ", 0x")
                    .hasMessageContaining("index " + SECRET.length())
                    .hasMessageNotContaining(SECRET)
                    .hasMessageNotContaining("sk-");
        }
    }

    @Test
    void otherControlCharactersAreRejectedButTabAndObsTextAllowed() {
        assertThatThrownBy(() -> RequestValidator.validateHeaderValue("x", "a\u0001b"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("control character 0x01");
        assertThatThrownBy(() -> RequestValidator.validateHeaderValue("x", "a\u007Fb"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("0x7F");
        assertThatCode(() -> RequestValidator.validateHeaderValue("x", "a\tb c~ é\u00FF")).doesNotThrowAnyException();
        assertThatCode(() -> RequestValidator.validateHeaderValue("x", "")).doesNotThrowAnyException();
    }

    @Test
    void charactersBeyondLatin1AreRejected() {
        assertThatThrownBy(() -> RequestValidator.validateHeaderValue("x-title", "日本"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("RFC 8187").hasMessageNotContaining("日本");
    }

    @Test
    void invalidNameIsNotEchoedInAValueError() {
        assertThatThrownBy(() -> RequestValidator.validateHeaderValue(SECRET + " x", "a\nb"))
                .hasMessageContaining("(invalid name)").hasMessageNotContaining(SECRET);
        assertThatThrownBy(() -> RequestValidator.validateHeaderValue("x", null)).hasMessageContaining("null value");
    }

    @Test
    void validateHeadersChecksEveryEntryOfEveryShape() {
        List<Map.Entry<String, String>> entries = List.of(new SimpleEntry<>("ok", "fine"), new SimpleEntry<>("x-bad", "a\r\nb"));
        assertThatThrownBy(() -> RequestValidator.validateHeaders(entries)).hasMessageContaining("\"x-bad\"");
        DefaultHttpHeaders netty = new DefaultHttpHeaders();
        netty.add("Content-Type", "application/json");
        assertThatCode(() -> RequestValidator.validateHeaders(netty)).doesNotThrowAnyException();
        assertThatThrownBy(() -> RequestValidator.validateHeaders(Map.of("x-multi", List.of("ok", "bad\n"))))
                .hasMessageContaining("\"x-multi\"");
        assertThatCode(() -> RequestValidator.validateHeaders(Map.of("a", List.of("1", "2")))).doesNotThrowAnyException();
    }

    // ---- URIs --------------------------------------------------------------------------------------------

    @Test
    void absoluteHttpAndHttpsUrisAreAccepted() {
        for (String s : List.of("https://api.openai.com/v1/chat/completions", "http://localhost:8080",
                "HTTPS://API.ANTHROPIC.COM/v1/messages?beta=true", "http://[::1]:1/", "http://127.0.0.1:65535/x")) {
            URI uri = URI.create(s);
            assertThat(RequestValidator.validateHttpUri(uri)).as(s).isSameAs(uri);
        }
    }

    @Test
    void relativeOrForeignSchemeUrisAreRejected() {
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("/v1/messages")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("absolute");
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("ftp://h/x")))
                .hasMessageContaining("http or https");
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("wss://h/x")))
                .hasMessageContaining("http or https");
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("http:opaque")))
                .hasMessageContaining("hierarchical");
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(null)).hasMessageContaining("null");
    }

    @Test
    void uriWithoutAParsableHostIsRejected() {
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("http:///path")))
                .hasMessageContaining("no host");
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("http://my_host/x")))
                .hasMessageContaining("'_'");
    }

    @Test
    void userInfoIsRejectedAndNotEchoed() {
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("https://user:" + SECRET + "@h/x")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("user-info")
                .hasMessageNotContaining(SECRET);
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("https://u:" + SECRET + "@my_host/x")))
                .hasMessageContaining("user-info").hasMessageNotContaining(SECRET);
    }

    @Test
    void fragmentIsRejectedAndQuerySecretsAreNotEchoed() {
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("https://h/x?key=" + SECRET + "#frag")))
                .hasMessageContaining("fragment").hasMessageContaining("key=<redacted>").hasMessageNotContaining(SECRET);
    }

    @Test
    void portsOutsideTheTcpRangeAreRejected() {
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("http://h:0/")))
                .hasMessageContaining("port 0");
        assertThatThrownBy(() -> RequestValidator.validateHttpUri(URI.create("http://h:65536/")))
                .hasMessageContaining("port 65536");
    }

    @Test
    void webSocketUrisUseTheirOwnSchemes() {
        URI ws = URI.create("wss://api.openai.com/v1/realtime?model=gpt-realtime");
        assertThat(RequestValidator.validateWebSocketUri(ws)).isSameAs(ws);
        assertThat(RequestValidator.validateWebSocketUri(URI.create("ws://localhost:9000/"))).isNotNull();
        assertThatThrownBy(() -> RequestValidator.validateWebSocketUri(URI.create("https://h/")))
                .hasMessageContaining("ws or wss");
        assertThatThrownBy(() -> RequestValidator.validateWebSocketUri(URI.create("wss://h/#f")))
                .hasMessageContaining("fragment");
    }

    // ---- HTTP/2 connection-specific headers ---------------------------------------------------------------

    @Test
    void connectionSpecificHeadersAreRecognisedInAnyCase() {
        for (String name : List.of("Connection", "keep-alive", "Proxy-Connection", "Transfer-Encoding", "UPGRADE")) {
            assertThat(RequestValidator.isH2ConnectionSpecific(name, "x")).as(name).isTrue();
        }
        assertThat(RequestValidator.isH2ConnectionSpecific("TE", "trailers")).isFalse();
        assertThat(RequestValidator.isH2ConnectionSpecific("te", " Trailers ")).isFalse();
        assertThat(RequestValidator.isH2ConnectionSpecific("te", "gzip")).isTrue();
        assertThat(RequestValidator.isH2ConnectionSpecific("content-type", "x")).isFalse();
    }

    @Test
    void stripForH2RemovesThemAndTheHeadersConnectionNominates() {
        List<Map.Entry<String, String>> headers = List.of(
                new SimpleEntry<>("content-type", "application/json"),
                new SimpleEntry<>("Connection", "keep-alive, X-Hop"),
                new SimpleEntry<>("Keep-Alive", "timeout=5"),
                new SimpleEntry<>("x-hop", "1"),
                new SimpleEntry<>("te", "trailers"),
                new SimpleEntry<>("Transfer-Encoding", "chunked"),
                new SimpleEntry<>("authorization", "Bearer x"));
        assertThat(RequestValidator.h2ConnectionSpecificNames(headers))
                .containsExactly("Connection", "Keep-Alive", "x-hop", "Transfer-Encoding");
        List<Map.Entry<String, String>> kept = RequestValidator.stripForH2(headers);
        assertThat(kept).extracting(Map.Entry::getKey).containsExactly("content-type", "te", "authorization");
        assertThat(kept.get(0)).isSameAs(headers.get(0));
    }

    @Test
    void stripForH2KeepsEverythingWhenNothingIsConnectionSpecific() {
        List<Map.Entry<String, String>> headers = List.of(new SimpleEntry<>("accept", "text/event-stream"));
        assertThat(RequestValidator.stripForH2(headers)).isEqualTo(headers);
        assertThat(RequestValidator.h2ConnectionSpecificNames(headers)).isEmpty();
    }

    @Test
    void stripForH2WorksOnMultiValuedMaps() {
        Map<String, List<String>> headers = new java.util.LinkedHashMap<>();
        headers.put("accept", List.of("text/event-stream"));
        headers.put("connection", List.of("close"));
        headers.put("te", List.of("gzip", "trailers"));
        assertThat(RequestValidator.stripForH2(headers))
                .containsExactly(Map.entry("accept", List.of("text/event-stream")), Map.entry("te", List.of("trailers")));
    }
}

package io.sluice.http.spi;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedactionTest {

    @Test
    void knownCredentialHeadersAreSensitiveInAnyCase() {
        for (String name : List.of("Authorization", "proxy-authorization", "X-API-Key", "api-key", "Cookie",
                "set-cookie", "x-goog-api-key", "Ocp-Apim-Subscription-Key", "X-Amz-Security-Token")) {
            assertThat(Redaction.isSensitiveHeader(name)).as(name).isTrue();
        }
    }

    @Test
    void credentialWordsInOtherNamesAreSensitive() {
        for (String name : List.of("x-auth-token", "x-custom-api-key", "X-Client-Secret", "x_api_key", "x-apikey",
                "x-session-id", "x-db-password", "x-google-credentials")) {
            assertThat(Redaction.isSensitiveHeader(name)).as(name).isTrue();
        }
    }

    @Test
    void ordinaryHeadersStayReadable() {
        for (String name : List.of("content-type", "Idempotency-Key", "x-ratelimit-remaining-tokens",
                "anthropic-ratelimit-tokens-limit", "openai-organization", "anthropic-version", "x-request-id",
                "user-agent", "authority", "retry-after")) {
            assertThat(Redaction.isSensitiveHeader(name)).as(name).isFalse();
        }
        assertThat(Redaction.isSensitiveHeader(null)).isFalse();
    }

    @Test
    void redactHeaderValueHidesOnlySensitiveValues() {
        assertThat(Redaction.redactHeaderValue("Authorization", "Bearer sk-secret")).isEqualTo("<redacted>");
        assertThat(Redaction.redactHeaderValue("content-type", "application/json")).isEqualTo("application/json");
    }

    @Test
    void keyLikeQueryParametersAreRedactedCaseInsensitively() {
        URI uri = URI.create("https://generativelanguage.googleapis.com/v1beta/models/g:generate?alt=sse&KEY=AIzaSecret"
                + "&api_key=a&Api-Key=b&apikey=c&token=d&access_token=e&sig=f&Signature=g&password=h&secret=i&x=1");
        String redacted = Redaction.redactUri(uri);
        assertThat(redacted).isEqualTo("https://generativelanguage.googleapis.com/v1beta/models/g:generate?alt=sse"
                + "&KEY=<redacted>&api_key=<redacted>&Api-Key=<redacted>&apikey=<redacted>&token=<redacted>"
                + "&access_token=<redacted>&sig=<redacted>&Signature=<redacted>&password=<redacted>&secret=<redacted>&x=1");
    }

    @Test
    void percentEncodedParameterNamesAreRecognised() {
        assertThat(Redaction.redactUri(URI.create("https://h/p?api%5Fkey=s3cret")))
                .isEqualTo("https://h/p?api%5Fkey=<redacted>");
    }

    @Test
    void parametersWithoutValuesAreKept() {
        assertThat(Redaction.redactUri(URI.create("https://h/p?key&token=&a=b"))).isEqualTo("https://h/p?key&token=&a=b");
    }

    @Test
    void userInfoIsRedactedAndHostPortKept() {
        assertThat(Redaction.redactUri(URI.create("http://user:pw@example.com:8080/x")))
                .isEqualTo("http://<redacted>@example.com:8080/x");
        // java.net.URI cannot parse this authority as server-based, so getRawUserInfo() is null
        assertThat(Redaction.redactUri(URI.create("http://user:pw@exa_mple.com/x")))
                .isEqualTo("http://<redacted>@exa_mple.com/x").doesNotContain("pw");
    }

    @Test
    void fragmentParametersAreRedactedToo() {
        assertThat(Redaction.redactUri(URI.create("https://h/cb#access_token=abc&state=1")))
                .isEqualTo("https://h/cb#access_token=<redacted>&state=1");
    }

    @Test
    void ordinaryUrisAreUnchanged() {
        for (String s : List.of("https://api.openai.com/v1/chat/completions", "http://[::1]:8080/a?b=c", "/relative")) {
            assertThat(Redaction.redactUri(URI.create(s))).isEqualTo(s);
        }
        assertThat(Redaction.redactUri(null)).isEqualTo("null");
        assertThat(Redaction.redactUri(URI.create("mailto:someone@example.com"))).isEqualTo("mailto:<redacted>");
    }

    @Test
    void headersToStringRedactsSensitiveValuesOfNettyHeaders() {
        DefaultHttpHeaders headers = new DefaultHttpHeaders();
        headers.add("Content-Type", "application/json");
        headers.add("x-api-key", "sk-ant-secret");
        headers.add("Authorization", "Bearer sk-secret");
        String s = Redaction.headersToString(headers);
        assertThat(s).isEqualTo("[Content-Type: application/json, x-api-key: <redacted>, Authorization: <redacted>]");
        assertThat(s).doesNotContain("secret");
    }

    @Test
    void headersToStringListsEveryValueOfAMultiMap() {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("accept", List.of("text/event-stream", "application/json"));
        headers.put("Cookie", List.of("a=1", "b=2"));
        assertThat(Redaction.headersToString(headers))
                .isEqualTo("[accept: text/event-stream, accept: application/json, Cookie: <redacted>, Cookie: <redacted>]");
        assertThat(Redaction.headersToString(Map.<String, List<String>>of())).isEqualTo("[]");
    }
}

package io.sluice.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/** A transport under test: the same request through different clients and protocols. */
interface Call extends AutoCloseable {
    record Result(int status, Map<String, List<String>> headers, String body, String protocol) {
        String header(String name) {
            for (var e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    Result send(String method, String path, String body, String... headers) throws Exception;

    String name();

    @Override
    default void close() {
    }

    static Call jdk(MockProvider mock, HttpClient.Version version, boolean tls) {
        HttpClient client = TestClients.jdk(mock, version);
        URI base = tls ? mock.httpsUri() : mock.httpUri();
        return new Call() {
            @Override
            public Result send(String method, String path, String body, String... headers) throws Exception {
                HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
                for (int i = 0; i < headers.length; i += 2) {
                    b.header(headers[i], headers[i + 1]);
                }
                b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
                if (body != null) {
                    b.header("content-type", "application/json");
                }
                HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
                return new Result(r.statusCode(), r.headers().map(), r.body(), r.version().name());
            }

            @Override
            public String name() {
                return "jdk " + version + (tls ? " tls" : " plain");
            }
        };
    }

    static Call ok(OkHttpClient client, URI base, String name) {
        return new Call() {
            @Override
            public Result send(String method, String path, String body, String... headers) throws IOException {
                Request.Builder b = new Request.Builder().url(base.resolve(path).toString());
                for (int i = 0; i < headers.length; i += 2) {
                    b.header(headers[i], headers[i + 1]);
                }
                b.method(method, body == null ? null : RequestBody.create(body, MediaType.get("application/json")));
                try (Response r = client.newCall(b.build()).execute()) {
                    return new Result(r.code(), r.headers().toMultimap(), r.body().string(), r.protocol().toString());
                }
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public void close() {
                TestClients.shutdown(client);
            }
        };
    }
}

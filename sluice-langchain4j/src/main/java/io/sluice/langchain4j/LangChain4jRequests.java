package io.sluice.langchain4j;

import io.sluice.http.sdk.CallTimeouts;
import dev.langchain4j.http.client.FormDataFile;
import dev.langchain4j.http.client.HttpRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/**
 * Turns LangChain4j's request into a Sluice request: URL, method, every header, the body (a string
 * as UTF-8, or form fields and files as {@code multipart/form-data}) and the read timeout, when set, as
 * both the headers and the body-idle bound. LangChain4j has no overall deadline, so none is set: a
 * stream runs as long as bytes keep coming.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
final class LangChain4jRequests {

    private LangChain4jRequests() {
    }

    static io.sluice.http.HttpRequest toSluice(HttpRequest request, Duration readTimeout) {
        io.sluice.http.HttpRequest.Builder b = io.sluice.http.HttpRequest.newBuilder(request.url())
                .method(request.method().name())
                // the SDK retries on its own: Sluice's status retries would multiply its attempts
                .statusRetries(false);
        request.headers().forEach((name, values) -> {
            if (values != null) {
                values.forEach(v -> b.header(name, v));
            }
        });
        if (!request.formDataFields().isEmpty() || !request.formDataFiles().isEmpty()) {
            String boundary = "sluice-" + UUID.randomUUID();
            b.setHeader("content-type", "multipart/form-data; boundary=" + boundary);
            b.body(multipart(boundary, request.formDataFields(), request.formDataFiles()));
        } else if (request.body() != null) {
            b.body(request.body().getBytes(StandardCharsets.UTF_8));
        }
        // no read timeout given: the manager's defaults (headers 30 s, body idle 30 s) apply
        return readTimeout == null ? b.build() : CallTimeouts.apply(b, readTimeout, null).build();
    }

    /** RFC 7578 multipart/form-data, fields first, then files. */
    static byte[] multipart(String boundary, Map<String, String> fields, Map<String, FormDataFile> files) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        fields.forEach((name, value) -> {
            write(out, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + quote(name) + "\"\r\n\r\n");
            write(out, value);
            write(out, "\r\n");
        });
        files.forEach((name, file) -> {
            write(out, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + quote(name)
                    + "\"; filename=\"" + quote(file.fileName()) + "\"\r\nContent-Type: "
                    + (file.contentType() != null ? file.contentType() : "application/octet-stream") + "\r\n\r\n");
            out.writeBytes(file.content());
            write(out, "\r\n");
        });
        write(out, "--" + boundary + "--\r\n");
        return out.toByteArray();
    }

    private static String quote(String s) {
        return s == null ? "" : s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\r", "").replace("\n", "");
    }

    private static void write(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }
}

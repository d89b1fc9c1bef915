package io.sluice.testkit;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;

/** Client factories and small protocol helpers for the tests. */
final class TestClients {
    private TestClients() {
    }

    static X509TrustManager trustManager(String pem) {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            X509Certificate cert = (X509Certificate) cf.generateCertificate(
                    new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            ks.setCertificateEntry("mock", cert);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            return (X509TrustManager) tmf.getTrustManagers()[0];
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static SSLContext sslContext(String pem) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new javax.net.ssl.TrustManager[] {trustManager(pem)}, null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static HttpClient jdk(MockProvider mock, HttpClient.Version version) {
        return HttpClient.newBuilder()
                .version(version)
                .sslContext(sslContext(mock.certificatePem()))
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    static OkHttpClient okTls(MockProvider mock, Protocol... protocols) {
        X509TrustManager tm = trustManager(mock.certificatePem());
        SSLContext ctx = sslContext(mock.certificatePem());
        OkHttpClient.Builder b = new OkHttpClient.Builder()
                .sslSocketFactory(ctx.getSocketFactory(), tm)
                .readTimeout(10, TimeUnit.SECONDS);
        if (protocols.length > 0) {
            b.protocols(List.of(protocols));
        }
        return b.build();
    }

    static OkHttpClient okH2c() {
        return new OkHttpClient.Builder()
                .protocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE))
                .readTimeout(10, TimeUnit.SECONDS)
                .build();
    }

    static OkHttpClient okHttp1() {
        return new OkHttpClient.Builder()
                .protocols(List.of(Protocol.HTTP_1_1))
                .readTimeout(10, TimeUnit.SECONDS)
                .build();
    }

    static void shutdown(OkHttpClient client) {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }

    /** One parsed SSE event. */
    record SseEvent(String event, String data) {
    }

    /** Parses an SSE body per the HTML spec's essentials: blank line ends an event. */
    static List<SseEvent> parseSse(String body) {
        List<SseEvent> events = new ArrayList<>();
        String event = null;
        StringBuilder data = null;
        for (String line : body.split("\n", -1)) {
            if (line.isEmpty()) {
                if (data != null) {
                    events.add(new SseEvent(event, data.toString()));
                }
                event = null;
                data = null;
            } else if (line.startsWith("event:")) {
                event = line.substring(6).trim();
            } else if (line.startsWith("data:")) {
                String d = line.substring(5);
                d = d.startsWith(" ") ? d.substring(1) : d;
                data = data == null ? new StringBuilder(d) : data.append('\n').append(d);
            }
        }
        return events;
    }

    /** Sends raw bytes to the plain port and reads until EOF or the idle timeout. */
    static byte[] raw(MockProvider mock, String request, int readTimeoutMs) throws IOException {
        try (Socket s = new Socket("127.0.0.1", mock.plainPort())) {
            s.setSoTimeout(readTimeoutMs);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    all.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                // Whatever arrived so far is the answer.
            } catch (IOException e) {
                // Reset by peer: also an answer for the fault tests.
            }
            return all.toByteArray();
        }
    }

    static String post(String path, String body, String... headers) {
        StringBuilder sb = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: localhost\r\n")
                .append("Content-Type: application/json\r\nContent-Length: ")
                .append(body.getBytes(StandardCharsets.UTF_8).length).append("\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        return sb.append("\r\n").append(body).toString();
    }
}

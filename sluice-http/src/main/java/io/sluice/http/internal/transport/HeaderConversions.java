package io.sluice.http.internal.transport;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.Http2Headers;
import io.sluice.http.Headers;
import java.util.Iterator;
import java.util.Map;

/**
 * Copies Netty header containers into the immutable API type.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
final class HeaderConversions {

    private HeaderConversions() {
    }

    static Headers fromHttp1(HttpHeaders in) {
        Headers.Builder b = Headers.builder();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            addLenient(b, e.getKey(), e.getValue());
        }
        return b.build();
    }

    /** The regular fields of an HTTP/2 header block; pseudo-headers are left out. */
    static Headers fromHttp2(Http2Headers in) {
        Headers.Builder b = Headers.builder();
        for (Map.Entry<CharSequence, CharSequence> e : in) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                continue;
            }
            addLenient(b, name, e.getValue());
        }
        return b.build();
    }

    private static void addLenient(Headers.Builder b, CharSequence name, CharSequence value) {
        try {
            b.add(name.toString(), value.toString());
        } catch (RuntimeException invalid) {
            // Netty validated the response already; a field our stricter token rule rejects is dropped, not fatal.
        }
    }
}

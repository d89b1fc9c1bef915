package io.sluice.http.sdk;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Builds a request URL from a base URL, path segments and query parameters with RFC 3986
 * percent-encoding (a space is {@code %20}, unlike {@code URLEncoder}'s {@code +}), as OkHttp's
 * {@code HttpUrl} does for the SDKs' default transport.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class UrlEncoding {

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private UrlEncoding() {
    }

    public static String url(String baseUrl, List<String> pathSegments, Map<String, List<String>> query) {
        StringBuilder sb = new StringBuilder(baseUrl);
        for (String segment : pathSegments) {
            if (sb.length() == 0 || sb.charAt(sb.length() - 1) != '/') {
                sb.append('/');
            }
            encode(sb, segment, "-._~!$&'()*+,;=:@");
        }
        boolean first = true;
        for (Map.Entry<String, List<String>> e : query.entrySet()) {
            for (String v : e.getValue()) {
                sb.append(first ? '?' : '&');
                first = false;
                encode(sb, e.getKey(), "-._~!$'()*,;:@/?");
                sb.append('=');
                encode(sb, v, "-._~!$'()*,;:@/?");
            }
        }
        return sb.toString();
    }

    private static void encode(StringBuilder sb, String s, String keep) {
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c < 128 && (Character.isLetterOrDigit(c) || keep.indexOf(c) >= 0)) {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
    }
}

package io.sluice.http.spi;

import java.net.URI;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Keeps secrets out of logs, exception messages and {@code toString}: credential headers and key-like query
 * parameters are replaced by {@value #REDACTED}.
 *
 * <p>A header is sensitive when its name is one of the known credential headers ({@code Authorization},
 * {@code Proxy-Authorization}, {@code Cookie}, {@code Set-Cookie}, {@code x-api-key} (Anthropic), {@code api-key}
 * (Azure OpenAI), {@code x-goog-api-key} (Gemini), {@code ocp-apim-subscription-key} (Azure API Management),
 * {@code x-amz-security-token} (Bedrock)), or when a {@code -}/{@code _}-separated word of the name says so:
 * {@code token}, {@code secret}, {@code password}, {@code credential(s)}, {@code apikey}, {@code auth}, {@code cookie},
 * {@code session}, or {@code api} followed by {@code key}. Matching words rather than substrings keeps
 * {@code x-ratelimit-remaining-tokens} and {@code Idempotency-Key} readable while catching {@code x-auth-token} and
 * {@code x-custom-api-key}. OpenAI sends its key as {@code Authorization: Bearer}, so it needs no entry of its own.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class Redaction {

    /** What a redacted value is replaced with. */
    public static final String REDACTED = "<redacted>";

    private static final Set<String> SENSITIVE_HEADERS = Set.of(
            "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
            "x-goog-api-key", "ocp-apim-subscription-key", "x-amz-security-token");
    private static final Set<String> SENSITIVE_WORDS = Set.of(
            "token", "secret", "password", "passwd", "credential", "credentials", "apikey", "auth", "cookie", "session");
    private static final Set<String> SENSITIVE_QUERY_PARAMETERS = Set.of(
            "key", "api_key", "api-key", "apikey", "x-api-key", "token", "access_token", "refresh_token", "id_token",
            "client_secret", "sig", "signature", "password", "secret", "x-amz-security-token", "x-amz-signature",
            "x-goog-signature");

    private Redaction() {
    }

    /** Whether the header's value may be a secret; case-insensitive. */
    public static boolean isSensitiveHeader(CharSequence name) {
        if (name == null) {
            return false;
        }
        String lower = name.toString().toLowerCase(Locale.ROOT);
        if (SENSITIVE_HEADERS.contains(lower)) {
            return true;
        }
        String previous = "";
        int start = 0;
        for (int i = 0; i <= lower.length(); i++) {
            if (i == lower.length() || lower.charAt(i) == '-' || lower.charAt(i) == '_') {
                String word = lower.substring(start, i);
                if (SENSITIVE_WORDS.contains(word) || (previous.equals("api") && word.equals("key"))) {
                    return true;
                }
                previous = word;
                start = i + 1;
            }
        }
        return false;
    }

    /** The value, or {@value #REDACTED} when the header is sensitive. */
    public static String redactHeaderValue(CharSequence name, CharSequence value) {
        if (isSensitiveHeader(name)) {
            return REDACTED;
        }
        return value == null ? null : value.toString();
    }

    /**
     * The URI as a string safe to log: the user-info (a credential) and the values of key-like query and fragment
     * parameters ({@code key}, {@code api_key}, {@code token}, {@code access_token}, {@code sig}, {@code password},
     * {@code secret}, … matched case-insensitively and after percent-decoding the name) become {@value #REDACTED}.
     * The result is for humans only: it is no longer a valid URI.
     */
    public static String redactUri(URI uri) {
        if (uri == null) {
            return "null";
        }
        if (uri.isOpaque()) {
            return uri.getScheme() + ":" + REDACTED; // no structure to keep, and it may all be secret
        }
        StringBuilder sb = new StringBuilder(64);
        if (uri.getScheme() != null) {
            sb.append(uri.getScheme()).append(':');
        }
        String authority = uri.getRawAuthority();
        if (authority != null) {
            sb.append("//");
            // Split on the last '@' ourselves: for a registry-based authority (a host java.net.URI cannot parse,
            // such as one with '_') getRawUserInfo() is null even when credentials are present.
            int at = authority.lastIndexOf('@');
            if (at >= 0) {
                sb.append(REDACTED).append('@');
            }
            sb.append(authority, at + 1, authority.length());
        }
        if (uri.getRawPath() != null) {
            sb.append(uri.getRawPath());
        }
        if (uri.getRawQuery() != null) {
            sb.append('?');
            appendRedactedParameters(sb, uri.getRawQuery());
        }
        if (uri.getRawFragment() != null) {
            sb.append('#');
            appendRedactedParameters(sb, uri.getRawFragment()); // OAuth implicit flow puts tokens here
        }
        return sb.toString();
    }

    private static void appendRedactedParameters(StringBuilder sb, String raw) {
        int start = 0;
        while (start <= raw.length()) {
            int amp = raw.indexOf('&', start);
            int end = amp < 0 ? raw.length() : amp;
            String pair = raw.substring(start, end);
            int eq = pair.indexOf('=');
            if (eq > 0 && eq < pair.length() - 1 && isSensitiveParameter(pair.substring(0, eq))) {
                sb.append(pair, 0, eq + 1).append(REDACTED);
            } else {
                sb.append(pair);
            }
            if (amp < 0) {
                break;
            }
            sb.append('&');
            start = amp + 1;
        }
    }

    private static boolean isSensitiveParameter(String rawName) {
        String name = rawName.toLowerCase(Locale.ROOT);
        if (name.indexOf('%') >= 0 || name.indexOf('+') >= 0) {
            try {
                name = java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return true; // undecodable name: redact rather than guess
            }
        }
        return SENSITIVE_QUERY_PARAMETERS.contains(name.toLowerCase(Locale.ROOT));
    }

    /**
     * Headers as {@code [name: value, name: value]}, with sensitive values redacted: fits Netty's {@code HttpHeaders}
     * and {@code Http2Headers} and any list of entries.
     */
    public static String headersToString(Iterable<? extends Map.Entry<? extends CharSequence, ? extends CharSequence>> headers) {
        StringBuilder sb = new StringBuilder("[");
        for (Map.Entry<? extends CharSequence, ? extends CharSequence> e : headers) {
            appendHeader(sb, e.getKey(), e.getValue());
        }
        return sb.append(']').toString();
    }

    /** Headers of a multi-valued map as {@code [name: value, name: value]}, each value listed, sensitive ones redacted. */
    public static String headersToString(Map<? extends CharSequence, ? extends Collection<? extends CharSequence>> headers) {
        StringBuilder sb = new StringBuilder("[");
        for (Map.Entry<? extends CharSequence, ? extends Collection<? extends CharSequence>> e : headers.entrySet()) {
            for (CharSequence value : e.getValue()) {
                appendHeader(sb, e.getKey(), value);
            }
        }
        return sb.append(']').toString();
    }

    private static void appendHeader(StringBuilder sb, CharSequence name, CharSequence value) {
        if (sb.length() > 1) {
            sb.append(", ");
        }
        sb.append(name).append(": ").append(redactHeaderValue(name, value));
    }
}

package io.sluice.http;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import io.sluice.http.spi.Redaction;
import io.sluice.http.spi.RequestValidator;
import java.util.function.BiConsumer;

/**
 * An immutable, ordered, multi-valued list of HTTP header fields with case-insensitive
 * names. Names are stored lower case (the HTTP/2 wire form); values as given.
 *
 * <p>{@link #toString()} never shows the value of a credential header
 * ({@code Authorization}, {@code x-api-key}, {@code api-key}, cookies and the like, as
 * {@link Redaction} defines them): it prints {@code <redacted>} instead. Names and values
 * are validated when added (no CR, LF or NUL: no header injection).
 *
 * <p><b>Thread-safety:</b> immutable; safe to share. The {@link Builder} is not thread-safe.
 */
public final class Headers {

    private static final Headers EMPTY = new Headers(new String[0]);

    /** name0, value0, name1, value1, ... with names lower case. */
    private final String[] fields;

    private Headers(String[] fields) {
        this.fields = fields;
    }

    /** No header fields. */
    public static Headers empty() {
        return EMPTY;
    }

    /** Headers from name/value pairs: {@code of("accept", "text/event-stream", "x-a", "1")}. */
    public static Headers of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("expected name/value pairs, got an odd count ("
                    + namesAndValues.length + ")");
        }
        Builder b = builder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return b.build();
    }

    /** A new, empty builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these fields. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.fields.addAll(Arrays.asList(fields));
        return b;
    }

    /** Whether {@code name} names a credential whose value must never be logged. */
    public static boolean isSecret(String name) {
        return Redaction.isSensitiveHeader(name);
    }

    /** The first value of {@code name}, or null. */
    public String get(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (int i = 0; i < fields.length; i += 2) {
            if (fields[i].equals(n)) {
                return fields[i + 1];
            }
        }
        return null;
    }

    /** Every value of {@code name} in order; empty when absent. */
    public List<String> all(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        List<String> out = null;
        for (int i = 0; i < fields.length; i += 2) {
            if (fields[i].equals(n)) {
                if (out == null) {
                    out = new ArrayList<>(2);
                }
                out.add(fields[i + 1]);
            }
        }
        return out == null ? List.of() : Collections.unmodifiableList(out);
    }

    /** Whether at least one field is named {@code name}. */
    public boolean contains(String name) {
        return get(name) != null;
    }

    /** The distinct names, lower case, in first-seen order. */
    public Set<String> names() {
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < fields.length; i += 2) {
            out.add(fields[i]);
        }
        return Collections.unmodifiableSet(out);
    }

    /** Number of fields (a name with two values counts twice). */
    public int size() {
        return fields.length / 2;
    }

    /** Whether there are no fields. */
    public boolean isEmpty() {
        return fields.length == 0;
    }

    /** Calls {@code action} for every field in order with the lower-case name and the value. */
    public void forEach(BiConsumer<String, String> action) {
        for (int i = 0; i < fields.length; i += 2) {
            action.accept(fields[i], fields[i + 1]);
        }
    }

    /** The fields as an unmodifiable map from lower-case name to values. */
    public Map<String, List<String>> asMap() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (int i = 0; i < fields.length; i += 2) {
            out.computeIfAbsent(fields[i], k -> new ArrayList<>(1)).add(fields[i + 1]);
        }
        out.replaceAll((k, v) -> List.copyOf(v));
        return Collections.unmodifiableMap(out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Headers h && Arrays.equals(fields, h.fields);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(fields);
    }

    /** The fields with credential values replaced by {@code <redacted>}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < fields.length; i += 2) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(fields[i]).append(": ").append(Redaction.redactHeaderValue(fields[i], fields[i + 1]));
        }
        return sb.append(']').toString();
    }

    /**
     * Collects header fields. Names are validated as HTTP tokens and values must not
     * contain CR, LF or NUL (header injection), checked on {@link #add}.
     *
     * <p><b>Thread-safety:</b> not thread-safe; confine to one thread.
     */
    public static final class Builder {
        private final List<String> fields = new ArrayList<>();

        private Builder() {
        }

        /** Appends a field. */
        public Builder add(String name, String value) {
            String n = checkName(name);
            fields.add(n);
            fields.add(checkValue(n, value));
            return this;
        }

        /** Replaces every field named {@code name} with one field. */
        public Builder set(String name, String value) {
            remove(name);
            return add(name, value);
        }

        /** Removes every field named {@code name}. */
        public Builder remove(String name) {
            String n = name.toLowerCase(Locale.ROOT);
            for (int i = fields.size() - 2; i >= 0; i -= 2) {
                if (fields.get(i).equals(n)) {
                    fields.remove(i + 1);
                    fields.remove(i);
                }
            }
            return this;
        }

        /** Appends every field of {@code headers}. */
        public Builder addAll(Headers headers) {
            fields.addAll(Arrays.asList(headers.fields));
            return this;
        }

        public Headers build() {
            return fields.isEmpty() ? EMPTY : new Headers(fields.toArray(new String[0]));
        }

        private static String checkName(String name) {
            Objects.requireNonNull(name, "header name");
            RequestValidator.validateHeaderName(name);
            return name.toLowerCase(Locale.ROOT);
        }

        private static String checkValue(String name, String value) {
            RequestValidator.validateHeaderValue(name, value); // CR/LF/NUL: header injection; never echoes the value
            return value;
        }
    }
}

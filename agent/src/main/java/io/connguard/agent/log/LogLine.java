package io.connguard.agent.log;

import io.connguard.agent.config.LogFormat;
import io.connguard.agent.config.LogLevel;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * One log event as the text that is written for it, ending with a line break: the plain text line
 * SLF4J Simple writes for the agent (so a log file reads like stderr did) or one JSON object.
 *
 * <p>JSON fields, in this order: {@code time} (UTC, milliseconds), {@code level}, {@code logger}
 * (always {@code connguard}), {@code event} and, where the message has one, {@code kind} (both
 * derived from the stable start of the message, see {@link #event}), {@code message} (the text
 * line's message, unchanged), and {@code error} (the stack trace, only when there is one).
 * Pure and stateless, so it is tested without an agent.
 */
final class LogLine {

    static final String LOGGER = "connguard";
    private static final String PREFIX = "connguard: ";

    /** SLF4J Simple's pattern as {@link AgentLog} configures it, in the JVM's time zone, as SimpleDateFormat did. */
    private static final DateTimeFormatter TEXT_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneId.systemDefault());
    /** Always UTC for pipelines, whatever the host's zone. */
    private static final DateTimeFormatter JSON_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /**
     * Messages without a {@code word [kind]:} head that still deserve an event name of their
     * own: {prefix after "connguard: ", event, kind or null}. Checked in order; the first match
     * wins. Changing a row changes a documented field (README, Logs).
     */
    private static final String[][] EVENTS = {
            {"started ", "started", null},
            {"not starting", "start", "refused"},
            {"failed to start", "start", "failed"},
            {"already running", "start", "duplicate"},
            {"disabled by ", "start", "disabled"},
            {"connect to ", "queue", "timeout"},
            {"connects to ", "queue", "full"},
            {"a connect to ", "queue", "ungoverned"},
            {"new destination ", "host", "new"},
            {"CONNGUARD_LOG_FILE (connguard.log.file): cannot ", "log-file", "unavailable"},
            {"CONNGUARD_", "setting", "invalid"},
            {"unknown setting ", "setting", "unknown"},
            {"internal error", "internal", "error"},
    };

    private LogLine() {
    }

    static String format(LogFormat format, long epochMillis, LogLevel level, String message, Throwable error) {
        return format == LogFormat.JSON
                ? json(epochMillis, level, message, error)
                : text(epochMillis, level, message, error);
    }

    /** {@code 2026-11-21T20:26:29.431Z WARN connguard - message}, then the stack as printStackTrace writes it. */
    static String text(long epochMillis, LogLevel level, String message, Throwable error) {
        StringBuilder b = new StringBuilder(64 + message.length());
        b.append(TEXT_TIME.format(Instant.ofEpochMilli(epochMillis))).append(' ').append(level.name())
                .append(' ').append(LOGGER).append(" - ").append(message).append(System.lineSeparator());
        if (error != null) {
            b.append(stack(error));
        }
        return b.toString();
    }

    static String json(long epochMillis, LogLevel level, String message, Throwable error) {
        String[] event = event(message);
        StringBuilder b = new StringBuilder(128 + message.length());
        b.append("{\"time\":\"").append(JSON_TIME.format(Instant.ofEpochMilli(epochMillis)))
                .append("\",\"level\":\"").append(level.name())
                .append("\",\"logger\":\"").append(LOGGER)
                .append("\",\"event\":");
        quote(b, event[0]);
        if (event[1] != null) {
            b.append(",\"kind\":");
            quote(b, event[1]);
        }
        b.append(",\"message\":");
        quote(b, message);
        if (error != null) {
            b.append(",\"error\":");
            String stack = stack(error);
            quote(b, stack.endsWith(System.lineSeparator())
                    ? stack.substring(0, stack.length() - System.lineSeparator().length()) : stack);
        }
        // "\n", not the platform separator: JSON Lines readers split on it everywhere.
        return b.append("}\n").toString();
    }

    /**
     * {event, kind or null} of a message: {@code connguard: leak [age]: …} is leak/age,
     * {@code connguard: retry [exhausted]: …} retry/exhausted; otherwise the {@link #EVENTS} row
     * whose prefix it starts with; otherwise {@code message} without a kind.
     */
    static String[] event(String message) {
        if (!message.startsWith(PREFIX)) {
            return new String[] {"message", null};
        }
        int start = PREFIX.length();
        int word = start;
        while (word < message.length() && isNameChar(message.charAt(word))) {
            word++;
        }
        if (word > start && message.startsWith(" [", word)) {
            int kindStart = word + 2;
            int kindEnd = kindStart;
            while (kindEnd < message.length() && isNameChar(message.charAt(kindEnd))) {
                kindEnd++;
            }
            if (kindEnd > kindStart && message.startsWith("]:", kindEnd)) {
                return new String[] {message.substring(start, word), message.substring(kindStart, kindEnd)};
            }
        }
        for (String[] row : EVENTS) {
            if (message.startsWith(row[0], start)) {
                return new String[] {row[1], row[2]};
            }
        }
        return new String[] {"message", null};
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || c == '-';
    }

    /**
     * {@code s} as a JSON string (RFC 8259): quote, backslash and every control character escaped
     * (backslash-n, backslash-t … or backslash-u and four hex digits); U+2028/U+2029 too, so a line stays one line for
     * JavaScript readers; a lone surrogate escaped the same way, because it has no UTF-8 encoding.
     * Other non-ASCII text is written as is and encoded as UTF-8 by the writer.
     */
    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    b.append("\\\"");
                    break;
                case '\\':
                    b.append("\\\\");
                    break;
                case '\n':
                    b.append("\\n");
                    break;
                case '\r':
                    b.append("\\r");
                    break;
                case '\t':
                    b.append("\\t");
                    break;
                case '\b':
                    b.append("\\b");
                    break;
                case '\f':
                    b.append("\\f");
                    break;
                default:
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || isLoneSurrogate(s, i)) {
                        b.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf])
                                .append(HEX[c >> 4 & 0xf]).append(HEX[c & 0xf]);
                    } else {
                        b.append(c);
                    }
                    break;
            }
        }
        b.append('"');
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private static boolean isLoneSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
        }
        return false;
    }

    private static String stack(Throwable error) {
        StringWriter w = new StringWriter();
        try (PrintWriter p = new PrintWriter(w)) {
            error.printStackTrace(p);
        }
        return w.toString();
    }
}

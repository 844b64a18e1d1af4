package io.connguard.agent.config;

import java.util.Locale;

/** How a log line is written: plain text, as SLF4J Simple writes it, or one JSON object per line. */
public enum LogFormat {
    /** {@code 2026-11-21T20:26:29.431Z WARN connguard - connguard: …}, the same as without a setting. */
    TEXT,
    /** {@code {"time":"…","level":"WARN","logger":"connguard","event":"retry","kind":"exhausted","message":"…"}}. */
    JSON;

    static final String ACCEPTED = "one of text, json";

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    static LogFormat parse(String text) {
        if (text != null) {
            String s = text.trim();
            for (LogFormat format : values()) {
                if (format.name().equalsIgnoreCase(s)) {
                    return format;
                }
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a log format; expected " + ACCEPTED);
    }
}

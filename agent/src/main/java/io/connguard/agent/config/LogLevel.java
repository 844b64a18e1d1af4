package io.connguard.agent.config;

import java.util.Locale;

/** How much the agent logs, from nothing ({@link #OFF}) to everything ({@link #TRACE}). */
public enum LogLevel {
    OFF, ERROR, WARN, INFO, DEBUG, TRACE;

    /** What {@link #parse} accepts, for error messages. */
    static final String ACCEPTED = "one of off, error, warn, info, debug, trace";

    /**
     * Whether a logger set to this level lets a message of {@code messageLevel} through.
     * Nothing is logged at {@link #OFF}, and no message is ever "of level OFF".
     */
    public boolean enables(LogLevel messageLevel) {
        return messageLevel != OFF && messageLevel.ordinal() <= ordinal();
    }

    /** The setting's spelling: {@code info}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The level named {@code text}, case-insensitively.
     *
     * @throws IllegalArgumentException if it names no level
     */
    public static LogLevel parse(String text) {
        if (text != null) {
            String s = text.trim();
            for (LogLevel level : values()) {
                if (level.name().equalsIgnoreCase(s)) {
                    return level;
                }
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a log level; expected " + ACCEPTED);
    }
}

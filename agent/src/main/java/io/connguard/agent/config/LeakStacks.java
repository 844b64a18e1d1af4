package io.connguard.agent.config;

import java.util.Locale;

/**
 * When the leak detectors capture the stack of the code that borrowed or opened a connection.
 * A stack costs microseconds per capture, so {@link #SAMPLED} is the default.
 */
public enum LeakStacks {
    /** Every borrow and every connect: exact reports, measurable cost on busy keep-alive loops. */
    ALL,
    /** One in 64, and every one for ten minutes after a leak is seen (so a repeating leak gets its stack). */
    SAMPLED,
    /** Never: reports say what leaked and where it went, not which code took it. */
    OFF;

    static final String ACCEPTED = "one of all, sampled, off";

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    static LeakStacks parse(String text) {
        if (text != null) {
            String s = text.trim();
            for (LeakStacks mode : values()) {
                if (mode.name().equalsIgnoreCase(s)) {
                    return mode;
                }
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a stack mode; expected " + ACCEPTED);
    }
}

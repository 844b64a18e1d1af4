package io.connguard.agent.config;

/**
 * The one duration syntax of every ConnGuard setting: a whole number and a unit ({@code 250ms},
 * {@code 30s}, {@code 5m}, {@code 1h}), or a bare {@code 0}. Deliberately narrow: no fractions,
 * no ISO-8601, no spaces, so that a value means the same thing to everyone who reads it.
 */
public final class Durations {

    /** What {@link #parse} accepts, for error messages. */
    public static final String ACCEPTED =
            "a whole number with unit ms, s, m or h (e.g. 250ms, 30s, 5m, 1h), or 0";

    private Durations() {
    }

    /**
     * Milliseconds of {@code text}. Units are case-insensitive.
     *
     * @throws IllegalArgumentException if {@code text} is not a duration (negative, no unit,
     *                                  unknown unit, garbage or too large)
     */
    public static long parse(String text) {
        if (text == null) {
            throw invalid("nothing");
        }
        String s = text.trim();
        int digits = 0;
        while (digits < s.length() && s.charAt(digits) >= '0' && s.charAt(digits) <= '9') {
            digits++;
        }
        // Leading sign, fraction or a missing number all end up here.
        if (digits == 0) {
            throw invalid(s);
        }
        long amount;
        try {
            amount = Long.parseLong(s.substring(0, digits));
        } catch (NumberFormatException tooLong) {
            throw invalid(s);
        }
        String unit = s.substring(digits);
        if (unit.isEmpty()) {
            // A bare number is ambiguous (seconds? millis?) except for zero, which is zero in any unit.
            if (amount == 0) {
                return 0;
            }
            throw invalid(s);
        }
        long factor;
        switch (unit.toLowerCase(java.util.Locale.ROOT)) {
            case "ms":
                factor = 1;
                break;
            case "s":
                factor = 1_000;
                break;
            case "m":
                factor = 60_000;
                break;
            case "h":
                factor = 3_600_000;
                break;
            default:
                throw invalid(s);
        }
        try {
            return Math.multiplyExact(amount, factor);
        } catch (ArithmeticException overflow) {
            throw invalid(s);
        }
    }

    /**
     * The shortest text that {@link #parse} reads back as {@code millis}: the largest unit that
     * divides it exactly ({@code 30000} is {@code 30s}, {@code 90000} is {@code 90s}).
     */
    public static String format(long millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("negative duration: " + millis + "ms");
        }
        if (millis == 0) {
            return "0";
        }
        if (millis % 3_600_000 == 0) {
            return millis / 3_600_000 + "h";
        }
        if (millis % 60_000 == 0) {
            return millis / 60_000 + "m";
        }
        if (millis % 1_000 == 0) {
            return millis / 1_000 + "s";
        }
        return millis + "ms";
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("'" + text + "' is not a duration; expected " + ACCEPTED);
    }
}

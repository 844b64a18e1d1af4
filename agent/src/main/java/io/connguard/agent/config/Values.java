package io.connguard.agent.config;

/** Small parsers shared by the settings; they return a sentinel instead of throwing. */
final class Values {

    static final String BOOLEAN_ACCEPTED = "true or false (also yes/no, on/off, 1/0)";
    static final String COUNT_ACCEPTED = "a whole number from 0 to " + Integer.MAX_VALUE;

    /** Longest bad value quoted back to the user; the rest is cut so the error stays one line. */
    private static final int MAX_QUOTED = 100;

    private Values() {
    }

    /** {@code Boolean.TRUE}/{@code FALSE}, or {@code null} if {@code text} is not a boolean. */
    static Boolean parseBoolean(String text) {
        switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true":
            case "yes":
            case "on":
            case "1":
                return Boolean.TRUE;
            case "false":
            case "no":
            case "off":
            case "0":
                return Boolean.FALSE;
            default:
                return null;
        }
    }

    /**
     * A non-negative int written as plain digits, or -1. Signs are refused on purpose:
     * {@code +5} is more likely a mistake than a wish. Allocation-free.
     */
    /** A whole number from {@code min} to {@code max}, surrounding blanks allowed. */
    static int parseRange(String text, int min, int max) {
        int value = parseCount(text);
        if (value < min || value > max) {
            throw new IllegalArgumentException("not a whole number from " + min + " to " + max);
        }
        return value;
    }

    static int parseCount(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && Character.isWhitespace(text.charAt(start))) {
            start++;
        }
        while (end > start && Character.isWhitespace(text.charAt(end - 1))) {
            end--;
        }
        if (start == end) {
            return -1;
        }
        long value = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
            if (value > Integer.MAX_VALUE) {
                return -1;
            }
        }
        return (int) value;
    }

    /** {@code text} in single quotes, made {@link #printable}. */
    static String quote(String text) {
        return "'" + printable(text) + "'";
    }

    /**
     * {@code text} made safe for a one-line message: control characters (a stray newline in an
     * environment variable) are escaped and long values are cut.
     */
    static String printable(String text) {
        StringBuilder b = new StringBuilder(Math.min(text.length(), MAX_QUOTED) + 8);
        for (int i = 0; i < text.length(); i++) {
            if (i == MAX_QUOTED) {
                b.append("...");
                break;
            }
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}

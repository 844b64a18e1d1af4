package io.connguard.agent.log;

/** A captured stack as report text: one {@code \tat} line per frame, ConnGuard's own frames left out. */
public final class StackText {

    private static final int MAX_FRAMES = 80;

    private StackText() {
    }

    /** Each frame on its own line, preceded by a line break, at most 80 of them (frameworks stack deep). */
    public static String frames(Throwable stack) {
        StringBuilder b = new StringBuilder();
        StackTraceElement[] all = stack.getStackTrace();
        int shown = 0;
        for (int i = 0; i < all.length; i++) {
            String c = all[i].getClassName();
            if (c.startsWith("io.connguard.agent.") || c.startsWith("io.connguard.bootstrap.")) {
                continue;
            }
            if (shown == MAX_FRAMES) {
                b.append(System.lineSeparator()).append("\t... ").append(all.length - i).append(" more");
                break;
            }
            b.append(System.lineSeparator()).append("\tat ").append(all[i]);
            shown++;
        }
        return b.toString();
    }
}

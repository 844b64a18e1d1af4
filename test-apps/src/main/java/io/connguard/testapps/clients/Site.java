package io.connguard.testapps.clients;

/**
 * A place in the source: the line that called {@link #here()}. The drivers call it on the same
 * source line as the call that borrows a connection, e.g.
 * <pre>
 * CloseableHttpResponse response = client.execute(get); Site site = Site.here();
 * </pre>
 * so that the leak app can print where the leak is ({@code LEAKSITE file=... line=...}) and the tests
 * never hard-code a line number.
 *
 * @param file  the source file name, e.g. {@code Apache4Driver.java}
 * @param line  the line number
 * @param frame the caller's frame as a stack trace prints it, e.g.
 *              {@code io.connguard.testapps.clients.Apache4Driver.leak(Apache4Driver.java:42)}
 */
public record Site(String file, int line, String frame) {

    private static final StackWalker WALKER = StackWalker.getInstance();

    /** The file and line of the code that called this method. */
    public static Site here() {
        StackWalker.StackFrame caller = WALKER.walk(frames -> frames.skip(1).findFirst())
                .orElseThrow(() -> new IllegalStateException("no caller frame"));
        return new Site(caller.getFileName(), caller.getLineNumber(), caller.toStackTraceElement().toString());
    }

    /** {@code Apache4Driver.java:42}, as it appears inside a stack trace line. */
    public String fileAndLine() {
        return file + ":" + line;
    }

    /** The {@code LEAKSITE} line the apps print. */
    public String describe() {
        return "LEAKSITE file=" + file + " line=" + line + " frame=" + frame;
    }
}

package io.connguard.agent;

import io.connguard.agent.core.Governor;

/**
 * Which connects may wait in line for a slot. Asked only when a connect would have to wait.
 *
 * <ul>
 *   <li>A blocking connect waits, unless it runs on an event-loop thread.</li>
 *   <li>A non-blocking {@code SocketChannel.connect} never waits: its caller relies on it
 *       returning at once, and is usually a selector loop (Netty, Reactor, Vert.x, an NIO
 *       reactor) that serves every other connection, including the ones whose close would free
 *       the slot. It takes a free slot if there is one, and otherwise goes ahead ungoverned,
 *       counted and logged.</li>
 *   <li>The one exception: {@code java.net.http.HttpClient} (JDK 11 to 25) makes a non-blocking
 *       connect from {@code PlainHttpConnection.connectAsync}, normally on one of its executor
 *       threads, where waiting is what a blocking client would do; it may wait there, but never on
 *       the client's {@code SelectorManager} thread, which also connects in some flows (a
 *       redirect followed with a direct executor).</li>
 * </ul>
 */
final class WaitRules implements Governor.WaitPolicy {

    private static final String JDK_HTTPCLIENT_SELECTOR = "jdk.internal.net.http.HttpClientImpl$SelectorManager";
    private static final String JDK_HTTPCLIENT_CONNECT = "jdk.internal.net.http.PlainHttpConnection";
    /** Frames from the connect advice down to connectAsync, with room to spare. */
    private static final int MAX_FRAMES = 24;
    private static final StackWalker WALKER = StackWalker.getInstance();

    @Override
    public boolean mayWait(Object connection, boolean blocking) {
        if (isEventLoop(Thread.currentThread())) {
            return false;
        }
        return blocking || calledByJdkHttpClient();
    }

    static boolean isEventLoop(Thread thread) {
        return thread.getClass().getName().equals(JDK_HTTPCLIENT_SELECTOR);
    }

    private static boolean calledByJdkHttpClient() {
        return WALKER.walk(frames -> frames.limit(MAX_FRAMES)
                .anyMatch(f -> f.getClassName().equals(JDK_HTTPCLIENT_CONNECT)));
    }
}

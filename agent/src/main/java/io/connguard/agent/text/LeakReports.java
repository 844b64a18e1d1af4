package io.connguard.agent.text;

import io.connguard.agent.core.Borrow;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.Lease;
import io.connguard.agent.log.StackText;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Words and stacks of leak reports, and their de-duplication: the first report of a leak (same
 * kind, client, destination and stack) is logged whole; identical ones in the next minute are
 * only counted, and the next one after that says how many there were. JMX counts every one.
 */
public final class LeakReports {

    static final String STACK_SETTING = "CONNGUARD_LEAK_STACKS";
    static final String THRESHOLD_SETTING = "CONNGUARD_LEAK_THRESHOLD";
    private static final long REPEAT_WINDOW_NANOS = 60_000_000_000L;
    private static final int MAX_TRACKED = 1_000;

    private final String thresholdText;
    private final String stacksMode;
    private final ConcurrentHashMap<String, Seen> seen = new ConcurrentHashMap<>();

    public LeakReports(String thresholdText, String stacksMode) {
        this.thresholdText = thresholdText;
        this.stacksMode = stacksMode;
    }

    public String age(HostState host, Borrow b, long heldMillis, long idleMillis) {
        return "connguard: leak [age]: connection to " + host.key() + " (" + b.client() + ") borrowed by thread \""
                + b.threadName() + "\" " + heldMillis + " ms ago has been idle for " + idleMillis
                + " ms and is not back in its pool (" + THRESHOLD_SETTING + "=" + thresholdText
                + "); close the response or its body in a finally block or try-with-resources; "
                + where("borrowed at", b.stack());
    }

    public String returned(HostState host, Borrow b, long heldMillis) {
        return "connguard: leak [returned]: connection to " + (host == null ? "?" : host.key()) + " (" + b.client()
                + ") reported as leaked came back after " + heldMillis + " ms (borrowed by thread \""
                + b.threadName() + "\")";
    }

    public String garbageHandle(HostState host, Borrow b, long heldMillis, boolean retired) {
        return "connguard: leak [garbage]: a response or call to " + (host == null ? "an unknown host" : host.key())
                + " (" + b.client() + ") became garbage without being closed "
                + heldMillis + " ms after thread \"" + b.threadName() + "\" borrowed its connection; "
                + (retired ? "the connection was retired and its slot given back"
                        : "the connection could not be retired and stays with its pool")
                + "; close responses in a finally block or try-with-resources; " + where("borrowed at", b.stack());
    }

    public String garbageConnection(HostState host, Lease lease, long ageMillis, boolean channel) {
        Borrow b = lease.borrow();
        String what = b != null ? "a connection" : channel ? "a SocketChannel" : "a socket";
        String thread = b != null ? b.threadName() : lease.threadName();
        Throwable stack = b != null && b.stack() != null ? b.stack() : lease.stack();
        String whereWord = b != null && b.stack() != null ? "borrowed at" : "opened at";
        String client = b != null ? b.client() : channel ? "SocketChannel" : "socket";
        return "connguard: leak [garbage]: " + what + " to " + host.key() + " (" + client + ")"
                + " became garbage without close() (or was"
                + " closed by a finalizer) "
                + ageMillis + " ms after thread \"" + thread + "\" " + (b != null ? "borrowed" : "opened")
                + " it; its slot was given back" + (channel ? " and its file descriptor closed" : "")
                + " (leaks for this host: " + host.leaks() + "); close sockets, channels and response streams in a"
                + " finally block or try-with-resources; " + where(whereWord, stack);
    }

    private String where(String word, Throwable stack) {
        if (stack == null) {
            return "no stack was captured (" + STACK_SETTING + "=" + stacksMode
                    + (stacksMode.equals("sampled") ? ", one in 64 until a leak is seen, every one after" : "")
                    + "; set " + STACK_SETTING + "=all to see the code)";
        }
        return word + ":" + StackText.frames(stack);
    }


    /**
     * Whether to log this report now; {@code key} identifies identical reports.
     *
     * @return the text to log (with the count of repeats since the last one), or null to stay quiet
     */
    public String dedup(String key, String report) {
        long now = System.nanoTime();
        if (seen.size() > MAX_TRACKED) {
            seen.clear(); // a flood of distinct leaks: start over rather than grow
        }
        Seen s = seen.computeIfAbsent(key, k -> new Seen(now));
        if (s.first.compareAndSet(true, false)) {
            return report;
        }
        long last = s.lastLogged.get();
        if (now - last >= REPEAT_WINDOW_NANOS && s.lastLogged.compareAndSet(last, now)) {
            long repeats = s.quiet.getAndSet(0);
            return report + System.lineSeparator() + "\t(" + repeats + " identical reports in the last "
                    + (now - last) / 1_000_000_000L + " s were counted but not logged)";
        }
        s.quiet.incrementAndGet();
        return null;
    }

    public static String key(String kind, HostState host, String client, Throwable stack) {
        StringBuilder b = new StringBuilder(kind).append('|').append(host == null ? "?" : host.key()).append('|')
                .append(client);
        if (stack != null) {
            for (StackTraceElement e : stack.getStackTrace()) {
                b.append('|').append(e);
            }
        }
        return b.toString();
    }

    private static final class Seen {
        final java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        final AtomicLong lastLogged;
        final AtomicLong quiet = new AtomicLong();

        Seen(long now) {
            this.lastLogged = new AtomicLong(now);
        }
    }
}

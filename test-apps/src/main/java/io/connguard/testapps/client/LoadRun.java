package io.connguard.testapps.client;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs {@code threads} threads that each do {@code requests} GETs one after another, all released at
 * the same instant, and prints the outcome:
 * <pre>
 * FAIL &lt;count&gt; &lt;reason&gt;     (the most frequent reasons, most frequent first)
 * RESULT kind=&lt;kind&gt; ok=&lt;n&gt; failed=&lt;n&gt; elapsedMs=&lt;n&gt;
 * </pre>
 * The whole run is bounded by {@code deadlineMs}; requests not finished by then count as failed.
 */
public final class LoadRun {

    private static final int TOP_REASONS = 10;

    private final String kind;
    private final int threads;
    private final int requests;
    private final long deadlineMs;
    private final boolean virtual;
    private final LongAdder ok = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final Map<String, LongAdder> reasons = new ConcurrentHashMap<>();

    LoadRun(String kind, int threads, int requests, long deadlineMs) {
        this(kind, threads, requests, deadlineMs, false);
    }

    /** With {@code virtual}, the workers are virtual threads (JDK 21+; this module is Java 17, so by reflection). */
    LoadRun(String kind, int threads, int requests, long deadlineMs, boolean virtual) {
        this.virtual = virtual;
        this.kind = kind;
        this.threads = threads;
        this.requests = requests;
        this.deadlineMs = deadlineMs;
    }

    /** Runs the load and prints the FAIL and RESULT lines. */
    void run(Requester.Factory factory, PrintStream out) throws InterruptedException {
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            Thread worker = newThread(() -> work(factory, ready, go), "load-" + t);
            workers.add(worker);
            worker.start();
        }
        ready.await(60, TimeUnit.SECONDS);
        long start = System.nanoTime();
        go.countDown();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(deadlineMs);
        for (Thread worker : workers) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left > 0) {
                worker.join(left);
            }
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        long unfinished = (long) threads * requests - ok.sum() - failed.sum();
        if (unfinished > 0) {
            failed.add(unfinished);
            reasons.computeIfAbsent("unfinished after --deadline-ms " + deadlineMs, k -> new LongAdder()).add(unfinished);
        }
        printFailures(out);
        out.println("RESULT kind=" + kind + " ok=" + ok.sum() + " failed=" + failed.sum() + " elapsedMs=" + elapsedMs);
        out.flush();
    }

    private Thread newThread(Runnable task, String name) {
        if (!virtual) {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        }
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            Class<?> type = Class.forName("java.lang.Thread$Builder");
            builder = type.getMethod("name", String.class).invoke(builder, name);
            return (Thread) type.getMethod("unstarted", Runnable.class).invoke(builder, task);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("--virtual-threads needs JDK 21 or later: " + e, e);
        }
    }

    private void work(Requester.Factory factory, CountDownLatch ready, CountDownLatch go) {
        Requester requester = null;
        String setupFailure = null;
        try {
            requester = factory.newRequester();
        } catch (Throwable t) {
            setupFailure = describe(t);
        }
        ready.countDown();
        try {
            go.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            for (int i = 0; i < requests; i++) {
                String reason;
                if (setupFailure != null) {
                    reason = setupFailure;
                } else {
                    try {
                        reason = requester.get();
                    } catch (Throwable t) {
                        reason = describe(t);
                    }
                }
                if (reason == null) {
                    ok.increment();
                } else {
                    failed.increment();
                    reasons.computeIfAbsent(reason, k -> new LongAdder()).increment();
                }
            }
        } finally {
            if (requester != null) {
                requester.close();
            }
        }
    }

    private void printFailures(PrintStream out) {
        List<Map.Entry<String, LongAdder>> sorted = new ArrayList<>(reasons.entrySet());
        sorted.sort(Comparator.comparingLong((Map.Entry<String, LongAdder> e) -> e.getValue().sum()).reversed()
                .thenComparing(Map.Entry::getKey));
        long others = 0;
        for (int i = 0; i < sorted.size(); i++) {
            if (i < TOP_REASONS) {
                out.println("FAIL " + sorted.get(i).getValue().sum() + " " + sorted.get(i).getKey());
            } else {
                others += sorted.get(i).getValue().sum();
            }
        }
        if (others > 0) {
            out.println("FAIL " + others + " (" + (sorted.size() - TOP_REASONS) + " other reasons)");
        }
    }

    /** Exception class and the first line of its message, plus the cause when that says more. */
    public static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.getClass().getName());
        String message = firstLine(t.getMessage());
        if (!message.isEmpty()) {
            sb.append(": ").append(message);
        }
        Throwable cause = t.getCause();
        if (cause != null && cause != t) {
            sb.append(" (cause ").append(cause.getClass().getName());
            String causeMessage = firstLine(cause.getMessage());
            if (!causeMessage.isEmpty()) {
                sb.append(": ").append(causeMessage);
            }
            sb.append(')');
        }
        return sb.length() > 300 ? sb.substring(0, 300) + "..." : sb.toString();
    }

    static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        int nl = text.indexOf('\n');
        return (nl >= 0 ? text.substring(0, nl) : text).replace('\r', ' ').trim();
    }
}

package io.connguard.agent.threads;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The agent's own threads. Most start lazily, on whatever application thread first needs them (a
 * connect, a class load): such a thread must take nothing of that thread's with it, or it would
 * pin the application's class loader for the life of the JVM (in an application server, the
 * first web application that connects out could never be collected after a redeploy). So they
 * get no context class loader, no inherited thread-local values and no inherited access control
 * context, and are daemons.
 */
public final class AgentThreads {

    private AgentThreads() {
    }

    /** A daemon thread named {@code name} running {@code task}, not started. */
    @SuppressWarnings("removal") // AccessController
    public static Thread create(String name, Runnable task) {
        // Created in a privileged block: up to JDK 23 a thread keeps the access control context of
        // the frames that created it, whose protection domains hold their class loaders (the
        // application's, when its thread made the first connect); privileged, that is only ours.
        Thread t = java.security.AccessController.doPrivileged(
                (java.security.PrivilegedAction<Thread>) () -> new Thread(null, task, name, 0, false));
        // (false: inherits no InheritableThreadLocal values)
        t.setDaemon(true);
        t.setContextClassLoader(null); // not the creating thread's (an application's) class loader
        return t;
    }

    /** {@link #create}, started. */
    public static Thread start(String name, Runnable task) {
        Thread t = create(name, task);
        t.start();
        return t;
    }

    /**
     * Runs {@code task} on the common fork-join pool after {@code delayMillis}, timed by the agent's
     * own timer thread ({@code connguard-timer}). Instead of
     * {@code CompletableFuture.delayedExecutor}, whose JDK-wide timer thread is created by its first
     * caller and keeps that thread's context class loader for good.
     */
    public static void later(long delayMillis, Runnable task) {
        Timer.INSTANCE.schedule(() -> ForkJoinPool.commonPool().execute(task), Math.max(0, delayMillis),
                TimeUnit.MILLISECONDS);
    }

    /** Created on first use (never in premain). */
    private static final class Timer {
        static final ScheduledThreadPoolExecutor INSTANCE = timer();

        private static ScheduledThreadPoolExecutor timer() {
            ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> create("connguard-timer", r));
            t.setRemoveOnCancelPolicy(true);
            return t;
        }
    }
}

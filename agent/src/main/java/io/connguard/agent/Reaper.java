package io.connguard.agent;

import io.connguard.agent.core.Governor;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;
import io.connguard.agent.threads.AgentThreads;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The daemon thread of the leak detectors: gives back the slots of connections (and retires
 * pooled connections whose handles) that became garbage without being closed, and runs the age
 * detector's scan. Started with the first governed connection, not in premain. Its wait is
 * bounded, so it never parks forever.
 */
final class Reaper implements Runnable {
    volatile Governor governor;
    private final AtomicBoolean started = new AtomicBoolean();
    private final Function<Runnable, Thread> threads;

    Reaper() {
        this(r -> AgentThreads.create("connguard-reaper", r));
    }

    /** With the thread maker given, so that a test can make the start fail. */
    Reaper(Function<Runnable, Thread> threads) {
        this.threads = threads;
    }

    /**
     * Starts the thread once. If it cannot start (no thread to be had), the next call tries again:
     * without it, connections dropped unclosed would never give their slots back.
     */
    void start() {
        if (started.compareAndSet(false, true)) {
            try {
                Thread t = threads.apply(this);
                t.setDaemon(true);
                t.start();
            } catch (Throwable e) {
                started.set(false);
                throw e;
            }
        }
    }

    @Override
    public void run() {
        long interval = governor.leakScanIntervalMillis();
        long nextScan = System.nanoTime() + interval * 1_000_000L;
        while (true) {
            try {
                long wait = Math.max(1, (nextScan - System.nanoTime()) / 1_000_000L);
                governor.releaseCollected(wait);
                if (System.nanoTime() - nextScan >= 0) {
                    governor.scanForLeaks();
                    nextScan = System.nanoTime() + interval * 1_000_000L;
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                AgentLog.debug(Sentences.reaperFailed(t));
            }
        }
    }
}

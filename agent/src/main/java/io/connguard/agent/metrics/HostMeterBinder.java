package io.connguard.agent.metrics;

import io.connguard.agent.config.LogLevel;
import io.connguard.agent.core.HostState;
import io.connguard.agent.log.AgentLog;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Gives each destination its meters, off the connect path: {@link #hostAdded} only queues the
 * host (it runs on the application thread that first connected there); {@link #bindPending}
 * registers the meters on the metrics thread. Bounded like the JMX MBeans: the first
 * {@link #MAX_HOSTS} destinations get meters, later ones are counted in JMX only.
 *
 * <p>Queue waits are recorded from the moment the host is seen, not from when its timer exists:
 * a wait that ends before the timer is registered is kept (up to {@link #MAX_EARLY_WAITS} per
 * host) and recorded into it when it is, so the timer's count matches the core's.
 */
public final class HostMeterBinder {

    static final int MAX_HOSTS = 1000;
    static final int MAX_EARLY_WAITS = 10_000;

    private final Queue<HostState> pending = new ConcurrentLinkedQueue<>();
    private final ConcurrentHashMap<HostState, Waits> waits = new ConcurrentHashMap<>();
    private final AtomicInteger admitted = new AtomicInteger();
    private final Runnable wake;

    /** @param wake called after a host was queued, to wake the thread that calls {@link #bindPending} */
    public HostMeterBinder(Runnable wake) {
        this.wake = wake;
    }

    /** A destination was seen for the first time. Never blocks. */
    public void hostAdded(HostState h) {
        if (admitted.getAndIncrement() >= MAX_HOSTS) {
            admitted.decrementAndGet();
            AgentLog.once(LogLevel.WARN, "metrics-max-hosts", "connguard: more than " + MAX_HOSTS
                    + " destinations; further ones get no meters (JMX and the status command still show them)", null);
            return;
        }
        waits.put(h, new Waits());
        pending.add(h);
        wake.run();
    }

    /** A connect to {@code h} stopped waiting in line after {@code nanos}. */
    public void queueWaitEnded(HostState h, long nanos) {
        Waits w = waits.get(h);
        if (w != null) {
            w.record(nanos);
        }
    }

    /** Registers the meters of every host queued so far; returns how many. */
    public int bindPending(MeterRegistry registry) {
        int n = 0;
        HostState h;
        while ((h = pending.poll()) != null) {
            try {
                waits.get(h).attach(HostMeters.bind(registry, h));
                n++;
            } catch (Throwable t) {
                AgentLog.debug("connguard: could not register the meters of " + h.key() + ": " + t);
            }
        }
        return n;
    }

    /** The wait timer of one host, and the waits that ended before it existed. */
    private static final class Waits {
        private volatile Timer timer;
        private final ReentrantLock lock = new ReentrantLock();
        private long[] early = new long[8];
        private int earlyCount;

        void record(long nanos) {
            Timer t = timer;
            if (t != null) {
                t.record(nanos, TimeUnit.NANOSECONDS);
                return;
            }
            lock.lock();
            try {
                t = timer;
                if (t == null) {
                    if (earlyCount < MAX_EARLY_WAITS) {
                        if (earlyCount == early.length) {
                            early = java.util.Arrays.copyOf(early, early.length * 2);
                        }
                        early[earlyCount++] = nanos;
                    }
                    return;
                }
            } finally {
                lock.unlock();
            }
            t.record(nanos, TimeUnit.NANOSECONDS);
        }

        void attach(Timer t) {
            lock.lock();
            try {
                for (int i = 0; i < earlyCount; i++) {
                    t.record(early[i], TimeUnit.NANOSECONDS);
                }
                early = null;
                earlyCount = 0;
                timer = t;
            } finally {
                lock.unlock();
            }
        }
    }
}

package io.connguard.agent.metrics;

import io.connguard.agent.config.LogLevel;
import io.connguard.agent.core.HostState;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/**
 * Gives each destination its meters in every registry ({@link Sink}) the agent feeds, off the
 * connect path: {@link #hostAdded} only queues the host (it runs on the application thread that
 * first connected there); {@link #bindPending} registers meters on the metrics thread, for new
 * hosts in every sink and for every known host in a sink that just arrived. Bounded like the JMX
 * MBeans: the first {@link #MAX_HOSTS} destinations get meters, later ones are counted in JMX only.
 *
 * <p>Queue waits go into each sink's wait timer as they end. Once a sink is expected
 * ({@link #expectSink}), waits that end before the first sink's timer exists are kept (up to
 * {@link #MAX_EARLY_WAITS} per host) and recorded into it when it is, so its count matches the
 * core's; a sink that arrives later sees the waits from then on.
 */
public final class HostMeterBinder {

    static final int MAX_HOSTS = 1000;
    /** Per host; 8 KB at most each, so 8 MB for 1000 hosts if a registry is expected and never comes. */
    static final int MAX_EARLY_WAITS = 1024;

    /** A registry the meters go into. */
    interface Sink {
        /** Registers {@code h}'s meters; returns what records a queue wait (nanoseconds) into its timer. */
        LongConsumer bind(HostState h) throws Exception;

        String describe();
    }

    private final Queue<HostState> pending = new ConcurrentLinkedQueue<>();
    private final Queue<Sink> newSinks = new ConcurrentLinkedQueue<>();
    private final ConcurrentHashMap<HostState, Waits> waits = new ConcurrentHashMap<>();
    private final AtomicInteger admitted = new AtomicInteger();
    private final Runnable wake;
    private volatile boolean expecting;
    // Only the metrics thread touches these two.
    private final List<HostState> known = new ArrayList<>();
    private final List<Sink> sinks = new ArrayList<>();

    /** @param wake called after a host or a sink was queued, to wake the thread that calls {@link #bindPending} */
    public HostMeterBinder(Runnable wake) {
        this.wake = wake;
    }

    /** A destination was seen for the first time. Never blocks. */
    public void hostAdded(HostState h) {
        if (admitted.getAndIncrement() >= MAX_HOSTS) {
            admitted.decrementAndGet();
            AgentLog.once(LogLevel.WARN, "metrics-max-hosts", Sentences.metricsTooManyHosts(MAX_HOSTS), null);
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
            w.record(nanos, expecting);
        }
    }

    /** A registry is on its way: keep the waits that end before it is bound. */
    void expectSink() {
        expecting = true;
    }

    /** Queues a registry; its meters are registered by the next {@link #bindPending}. */
    void addSink(Sink sink) {
        expecting = true;
        newSinks.add(sink);
        wake.run();
    }

    /**
     * Registers the meters of every host queued so far, in every sink and in {@code registry} (added
     * as a sink on first use); returns how many hosts were new.
     */
    public int bindPending(MeterRegistry registry) {
        boolean seen = false;
        for (Sink s : sinks) {
            seen |= s instanceof AgentSink && ((AgentSink) s).registry == registry;
        }
        if (!seen) {
            addSink(new AgentSink(registry));
        }
        return bindPending();
    }

    /** The agent's own, shaded registry. */
    static final class AgentSink implements Sink {
        final MeterRegistry registry;

        AgentSink(MeterRegistry registry) {
            this.registry = registry;
        }

        @Override
        public LongConsumer bind(HostState h) {
            io.micrometer.core.instrument.Timer t = HostMeters.bind(registry, h);
            return nanos -> t.record(nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public String describe() {
            return "the agent's registry";
        }
    }

    /** Binds new hosts in every sink and every known host in new sinks; returns the number of hosts bound. */
    int bindPending() {
        int n = 0;
        Sink s;
        while ((s = newSinks.poll()) != null) {
            sinks.add(s);
            for (HostState h : known) {
                bind(s, h);
            }
        }
        HostState h;
        while ((h = pending.poll()) != null) {
            known.add(h);
            for (Sink sink : sinks) {
                bind(sink, h);
            }
            n++;
        }
        return n;
    }

    private void bind(Sink sink, HostState h) {
        try {
            waits.get(h).attach(sink.bind(h));
        } catch (Throwable t) {
            AgentLog.once(LogLevel.INFO, "metrics-bind:" + sink.describe(), Sentences.metricsBindFailed(sink.describe(), t), null);
        }
    }

    /** The wait recorders of one host, and the waits that ended before the first existed. */
    private static final class Waits {
        private static final LongConsumer[] NONE = {};
        private volatile LongConsumer[] recorders = NONE;
        private final ReentrantLock lock = new ReentrantLock();
        private long[] early = new long[8];
        private int earlyCount;

        void record(long nanos, boolean keep) {
            LongConsumer[] r = recorders;
            if (r.length == 0) {
                if (!keep) {
                    return;
                }
                lock.lock();
                try {
                    r = recorders;
                    if (r.length == 0) {
                        if (earlyCount < MAX_EARLY_WAITS) {
                            if (earlyCount == early.length) {
                                early = Arrays.copyOf(early, early.length * 2);
                            }
                            early[earlyCount++] = nanos;
                        }
                        return;
                    }
                } finally {
                    lock.unlock();
                }
            }
            for (LongConsumer c : r) {
                c.accept(nanos);
            }
        }

        void attach(LongConsumer recorder) {
            lock.lock();
            try {
                if (recorders.length == 0) {
                    for (int i = 0; i < earlyCount; i++) {
                        recorder.accept(early[i]);
                    }
                    early = null;
                    earlyCount = 0;
                }
                LongConsumer[] r = Arrays.copyOf(recorders, recorders.length + 1);
                r[r.length - 1] = recorder;
                recorders = r;
            } finally {
                lock.unlock();
            }
        }
    }
}

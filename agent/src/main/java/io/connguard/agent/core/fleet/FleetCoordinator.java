package io.connguard.agent.core.fleet;

import io.connguard.agent.core.HostKey;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The fleet-wide caps of this JVM: one thread that exchanges permits with the
 * {@link FleetBackend} for every fleet-capped destination, so that connects never wait on the
 * store themselves, only in their destination's local line.
 *
 * <ul>
 *   <li>Cheap when the fleet is not near its cap: permits come in blocks of up to
 *       {@link #maxGrant}, a busy destination keeps up to a block spare and fetches the next one
 *       when the last spare permit is taken, so most connects take a local permit. Spare permits
 *       go back when the destination is idle for {@link #IDLE_NANOS} or other JVMs wait.</li>
 *   <li>Fair: while other JVMs wait for a destination (the store keeps their line), every permit
 *       a connection here gives back goes to the store, and the store hands out one permit per
 *       exchange to the JVMs in line, in turn.</li>
 *   <li>Crash-safe: each exchange renews this JVM's lease; the thread exchanges at least every
 *       lease/3 while it holds permits. A JVM that dies stops renewing and the store drops its
 *       permits when its lease runs out.</li>
 *   <li>Fallback: an exchange that fails, or does not answer within the {@link FleetWatchdog}'s
 *       bound (2 s by default; the thread does not wait for it any longer), switches every
 *       destination to the local fallback cap at once: waiting connects go on at the fallback cap
 *       instead of waiting on the store. Every {@link #PROBE_NANOS} the thread tries again; when an
 *       exchange succeeds the destination re-claims the permits its open connections hold and is
 *       back in fleet mode.</li>
 * </ul>
 */
public final class FleetCoordinator {

    /** A destination that took no permit for this long gives its spare permits back. */
    static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** While connects wait or other JVMs wait, the thread exchanges this often (plus jitter). */
    static final long BUSY_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** How often a busy JVM holding permits asks whether other JVMs wait (the fairness latency). */
    static final long CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How long after a fallback began a JVM keeps its first, narrower cap (see toFallback). */
    static final long WIDEN_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** After the store answers again, how long a JVM keeps its fallback cap while every JVM re-claims. */
    static final long REJOIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1_500);
    /** In fallback, how often the thread tries the store again. */
    static final long PROBE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** What the coordinator tells the rest of the agent (log lines). */
    public interface Events {
        default void fallback(FleetBackend backend, Throwable cause, int fallbackLimit) {
        }

        default void recovered(FleetBackend backend) {
        }
    }

    private final FleetWatchdog backend;
    private final int fallbackLimit;
    private final long leaseNanos;
    private final Events events;
    private final ThreadFactory threads;
    private final List<FleetHost> hosts = new CopyOnWriteArrayList<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile Thread thread;
    private volatile boolean down;
    private volatile boolean stopped;
    final LongAdder fallbacks = new LongAdder();
    final LongAdder syncs = new LongAdder();
    final LongAdder syncFailures = new LongAdder();
    private volatile long lastSyncNanos = -1;

    /**
     * A coordinator whose store calls run on a thread of {@code threads} too, each bounded by
     * {@link FleetWatchdog#DEFAULT_BOUND_MILLIS}.
     */
    public FleetCoordinator(FleetBackend backend, int fallbackLimit, long leaseMillis, Events events,
                            ThreadFactory threads) {
        this(backend, fallbackLimit, leaseMillis, events, threads, threads, FleetWatchdog.DEFAULT_BOUND_MILLIS);
    }

    /**
     * @param threads       makes the coordinator's thread; the agent's threads are never governed, so
     *                      the store's own connections are never capped
     * @param callThreads   makes the thread each store call runs on (one at a time, see
     *                      {@link FleetWatchdog})
     * @param callBoundMillis how long the coordinator waits for a store call before it falls back
     *                      without it
     */
    public FleetCoordinator(FleetBackend backend, int fallbackLimit, long leaseMillis, Events events,
                            ThreadFactory threads, ThreadFactory callThreads, long callBoundMillis) {
        this.backend = new FleetWatchdog(backend, callBoundMillis, callThreads);
        this.fallbackLimit = fallbackLimit;
        this.leaseNanos = TimeUnit.MILLISECONDS.toNanos(leaseMillis);
        this.events = events;
        this.threads = threads;
    }

    /** The share of {@code key}'s fleet cap; the thread starts with the first one. */
    FleetHost host(HostKey key, int cap) {
        FleetHost f = new FleetHost(key, cap, this);
        if (down || stopped) {
            f.fleetMode = false;
            f.allowance = fallbackAllowance();
            f.adjust(f.allowance);
        }
        hosts.add(f);
        if (started.compareAndSet(false, true)) {
            Thread t = threads.newThread(this::run);
            thread = t;
            t.start();
        }
        wake();
        return f;
    }

    /** The fallback cap as permits: a fallback limit of 0 means no cap. */
    private int fallbackAllowance() {
        return fallbackLimit > 0 ? fallbackLimit : FleetHost.NO_CAP;
    }

    /** Most permits granted at once for a cap: small blocks, so a fleet of many JVMs shares a small cap. */
    static int maxGrant(int cap) {
        return Math.max(1, Math.min(8, cap / 16));
    }

    void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    public List<FleetHost> hosts() {
        return hosts;
    }

    /** Whether the store could not be reached at the last try. */
    public boolean down() {
        return down;
    }

    public String backend() {
        return backend.describe();
    }

    public int fallbackLimit() {
        return fallbackLimit;
    }

    public long fallbackCount() {
        return fallbacks.sum();
    }

    public long syncCount() {
        return syncs.sum();
    }

    /** Duration of the last successful exchange, in nanoseconds; -1 before the first. */
    public long lastSyncNanos() {
        return lastSyncNanos;
    }

    /**
     * Gives every permit and place in line back (JVM shutdown) and stops the thread; the thread
     * does it, as it owns the store's connection. Waits at most {@code waitMillis}: whatever is not
     * given back by then comes back when the lease runs out.
     */
    public void stop(long waitMillis) {
        stopped = true;
        Thread t = thread;
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        LockSupport.unpark(t);
        try {
            t.join(waitMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #stop(long)} waiting at most 2 seconds. */
    public void stop() {
        stop(2_000);
    }

    private void releaseAll() {
        for (FleetHost f : hosts) {
            if (!f.fleetMode) {
                continue;
            }
            try {
                backend.releaseAll(f.key(), f.cap());
            } catch (FleetBackend.Refused refused) {
                // this host's keys cannot be written; its lease runs out by itself
            } catch (Throwable t) {
                return; // the store is gone: every lease runs out by itself
            }
        }
    }

    private void run() {
        while (!stopped) {
            long now = System.nanoTime();
            boolean busy = false;
            Throwable cause = null;
            boolean unreachable = false;
            for (FleetHost f : hosts) {
                if (unreachable) {
                    break;
                }
                try {
                    if (f.fleetMode) {
                        busy |= exchangeIfDue(f, now);
                    } else {
                        f.adjust(f.toReturn.getAndSet(0)); // released while contended, just before the fallback
                        widenFallback(f, now);
                        if (now - f.nextProbeNanos >= 0) {
                            f.nextProbeNanos = now + PROBE_NANOS;
                            recover(f);
                        }
                    }
                } catch (FleetBackend.Refused refused) {
                    // The store answered, with an error for this destination's keys (permissions, a
                    // cluster slot elsewhere): only this destination falls back.
                    syncFailures.increment();
                    cause = refused;
                    f.rejoinUntilNanos = 0;
                    if (f.fleetMode) {
                        announce(true, refused); // before the fallback permits let anyone through
                        toFallback(f);
                    }
                    f.nextProbeNanos = now + PROBE_NANOS;
                } catch (Throwable t) {
                    syncFailures.increment();
                    cause = t;
                    unreachable = true;
                }
            }
            if (unreachable) {
                // Nothing answers: every destination falls back at once rather than one timeout each.
                announce(true, cause);
                for (FleetHost f : hosts) {
                    if (f.fleetMode) {
                        toFallback(f);
                    }
                    f.rejoinUntilNanos = 0;
                    f.nextProbeNanos = System.nanoTime() + PROBE_NANOS;
                }
            }
            boolean anyFallback = false;
            long nextProbe = Long.MAX_VALUE;
            for (FleetHost f : hosts) {
                if (!f.fleetMode) {
                    anyFallback = true;
                    nextProbe = Math.min(nextProbe, f.nextProbeNanos);
                }
            }
            announce(anyFallback, cause);
            boolean holding = false;
            for (FleetHost f : hosts) {
                holding |= f.fleetMode && f.allowance > 0 && now - f.lastActiveNanos <= IDLE_NANOS;
            }
            long sleep = busy ? BUSY_TICK_NANOS + ThreadLocalRandom.current().nextLong(BUSY_TICK_NANOS / 2)
                    : holding ? CHECK_NANOS : Math.min(leaseNanos / 3, IDLE_NANOS / 2);
            if (anyFallback) {
                sleep = Math.min(sleep, Math.max(1, nextProbe - System.nanoTime()));
            }
            LockSupport.parkNanos(this, sleep);
        }
        releaseAll();
        backend.shutdown();
        // Connects made after this (other shutdown hooks) go on at the fallback cap, not into a dead line.
        for (FleetHost f : hosts) {
            if (f.fleetMode) {
                toFallback(f);
            }
        }
    }

    /** One log line when destinations start falling back, one when all are back. */
    private void announce(boolean anyFallback, Throwable cause) {
        try {
            if (anyFallback && !down) {
                down = true;
                fallbacks.increment();
                events.fallback(backend, cause != null ? cause : new IllegalStateException("unknown"), fallbackLimit);
            } else if (!anyFallback && down) {
                down = false;
                events.recovered(backend);
            }
        } catch (Throwable ignored) {
            // logging must not stop the thread
        }
    }

    /** Returns whether the destination is busy (connects or other JVMs waiting). */
    private boolean exchangeIfDue(FleetHost f, long now) throws Exception {
        if (f.active) {
            f.active = false;
            f.lastActiveNanos = now;
        }
        int spare = f.available();
        int demand = f.demand.get();
        boolean idle = now - f.lastActiveNanos > IDLE_NANOS;
        boolean renewDue = f.allowance > 0 && now - f.lastSyncNanos > leaseNanos / 3;
        boolean missed = f.missed;
        // Fetching spares ahead of need is worth an exchange only when the fleet had room at the
        // last one, and at most once per tick: a JVM holding the whole cap must not ask Redis for
        // permits it cannot get at every connect.
        boolean room = f.fleetInUse >= 0 && f.fleetInUse + maxGrant(f.cap()) <= f.cap();
        boolean prefetch = spare <= 0 && !idle && !f.contended && (missed || f.inUse() > 0 && room)
                && now - f.lastSyncNanos > BUSY_TICK_NANOS;
        // A busy JVM that holds permits looks every CHECK_NANOS whether other JVMs wait: that is how
        // they get their turn while it keeps its permits busy.
        boolean checkDue = f.allowance > 0 && !idle && now - f.lastSyncNanos > CHECK_NANOS;
        boolean due = demand > 0 || f.toReturn.get() > 0 || f.contended || renewDue || f.lastPending > 0
                || prefetch || checkDue || (spare > 0 && idle);
        if (!due) {
            return false;
        }
        if (missed && prefetch) {
            f.missed = false;
        }
        exchange(f, now, spare, demand, idle, missed);
        return f.demand.get() > 0 || f.contended;
    }

    /**
     * @param missed a connect that could not wait found no spare permit (a non-blocking or
     *               event-loop connect, which then went ahead ungoverned): fetch a block for the next
     */
    private void exchange(FleetHost f, long now, int spare, int demand, boolean idle, boolean missed)
            throws Exception {
        int ret = f.toReturn.getAndSet(0);
        int giveBack = 0;
        int block = maxGrant(f.cap());
        if (spare > 0 && demand == 0 && (f.contended || idle)) {
            // Spares go back when others wait or this JVM stopped connecting; while it is busy and
            // nobody else waits it keeps them, rather than churn permits through Redis.
            giveBack = f.drain(spare);
        }
        int claimed = f.allowance - ret - giveBack;
        int left = Math.max(0, spare - giveBack);
        int pending = Math.min(f.cap(), Math.max(0, demand - left));
        int extra = 0;
        if (!idle && !f.contended) {
            if (pending > 0) {
                extra = block - 1; // taken only if nobody else waits
            } else if (left == 0 && (missed || f.inUse() > 0 && f.fleetInUse >= 0 && f.fleetInUse + block <= f.cap())) {
                extra = block; // busy, out of spare permits, fleet not near its cap: fetch before a connect waits
            }
        }
        FleetBackend.Sync r;
        long t0 = System.nanoTime();
        try {
            r = backend.sync(f.key(), f.cap(), Math.max(0, claimed), pending, extra);
        } catch (Throwable t) {
            // Nothing was exchanged: what was drained or returned is still this JVM's.
            f.toReturn.addAndGet(ret);
            f.adjust(giveBack);
            throw t;
        }
        record(f, r, System.nanoTime() - t0);
        f.lastPending = pending;
        f.allowance = claimed + r.granted();
        f.adjust(r.granted()); // last: a waiter that wakes sees the rest of the exchange
    }

    /** What an exchange says about the fleet, published before its permits reach the line. */
    private void record(FleetHost f, FleetBackend.Sync r, long took) {
        lastSyncNanos = took;
        f.lastExchangeNanos = took;
        syncs.increment();
        f.fleetInUse = r.fleetInUse();
        f.contended = r.othersWaiting() > 0;
        f.lastSyncNanos = System.nanoTime();
        f.grants.add(r.granted());
    }

    /**
     * The store's permits are lost to this JVM (its lease runs out there); a local cap takes over,
     * counting the connections that are open now. At first that cap is what this JVM held plus the
     * room the fleet had at the last exchange, at least 1 and never more than the fallback cap: other
     * JVMs may still have their fleet share open, so a JVM that held one permit of a full fleet does
     * not jump to the fallback cap while theirs are still open. Two seconds later (or a lease, if
     * shorter), when the connections other JVMs had open over their own fallback cap have mostly
     * closed, the fallback cap.
     */
    private void toFallback(FleetHost f) {
        f.fleetMode = false;
        f.contended = false;
        f.fallbacks.increment();
        f.fallbackSinceNanos = System.nanoTime();
        int ret = f.toReturn.getAndSet(0);
        int target = fallbackAllowance();
        if (fallbackLimit > 0 && f.fleetInUse >= 0 && f.allowance < target) {
            long room = Math.max(0, f.cap() - f.fleetInUse);
            target = (int) Math.max(1, Math.min(target, f.allowance + room)); // at least 1: keep working
        }
        f.adjust(target - f.allowance + ret);
        f.allowance = target;
        f.fleetInUse = -1;
    }

    /** {@link #WIDEN_NANOS} (or a lease, if shorter) after the fallback began, the full fallback cap. */
    private void widenFallback(FleetHost f, long now) {
        if (!f.fleetMode && f.rejoinUntilNanos == 0 && f.allowance < fallbackAllowance()
                && now - f.fallbackSinceNanos > Math.min(leaseNanos, WIDEN_NANOS)) {
            int delta = fallbackAllowance() - f.allowance;
            f.allowance = fallbackAllowance();
            f.adjust(delta);
        }
    }

    /**
     * In fallback: an exchange that claims what this JVM's open connections hold and asks for
     * nothing. The first that works starts a rejoin window of {@link #REJOIN_NANOS}, longer than
     * the probe interval, in which the JVM keeps its fallback cap and keeps its claim current
     * every {@link #CHECK_NANOS}: by its end every other JVM that is still alive has claimed its
     * own open connections too (a Redis that came back empty knows none of them), so the permits
     * granted afterwards keep the fleet within its cap. Then the destination is back in fleet mode.
     */
    private void recover(FleetHost f) throws Exception {
        int claimed = f.inUse();
        long t0 = System.nanoTime();
        FleetBackend.Sync r = backend.sync(f.key(), f.cap(), claimed, 0, 0);
        long now = System.nanoTime();
        record(f, r, now - t0);
        f.lastPending = 0;
        if (f.rejoinUntilNanos == 0) {
            f.rejoinUntilNanos = now + REJOIN_NANOS;
        }
        if (now - f.rejoinUntilNanos < 0) {
            f.nextProbeNanos = now + CHECK_NANOS;
            return;
        }
        f.rejoinUntilNanos = 0;
        f.fleetMode = true;
        int delta = claimed - f.allowance;
        f.allowance = claimed;
        f.adjust(delta);
    }
}

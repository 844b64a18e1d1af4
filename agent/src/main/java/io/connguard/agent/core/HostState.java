package io.connguard.agent.core;

import io.connguard.agent.core.fleet.FleetHost;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Everything ConnGuard knows about one destination: its slots, its open leases and its counters.
 * Read by JMX and metrics; changed only by the {@link Governor}.
 */
public final class HostState {
    private final HostKey key;
    final HostSlots slots;
    final Set<Lease> leases = ConcurrentHashMap.newKeySet();
    /** Serialises limit changes; never held while waiting for a slot. */
    final ReentrantLock limitLock = new ReentrantLock();
    volatile boolean limitOverridden;

    final AtomicInteger open = new AtomicInteger();
    final AtomicInteger idle = new AtomicInteger();
    final AtomicInteger peakOpen = new AtomicInteger();
    /** Connects between "must wait" and "got a slot or gave up"; used to decide reclaim. */
    final AtomicInteger waiting = new AtomicInteger();
    final LongAdder connects = new LongAdder();
    final LongAdder waits = new LongAdder();
    final LongAdder queueTimeouts = new LongAdder();
    final LongAdder queueFull = new LongAdder();
    final LongAdder reclaimed = new LongAdder();
    /** Connections handed from a request that ended straight to one that waited for its pool. */
    final LongAdder handOvers = new LongAdder();
    /** Leaks by detector: the age detector (held and idle too long), and garbage (dropped without close). */
    final LongAdder ageLeaks = new LongAdder();
    final LongAdder garbageLeaks = new LongAdder();
    final LongAdder ungoverned = new LongAdder();
    final LongAdder waitNanos = new LongAdder();
    /** Requests to this host under {@link RetryPolicy} now, and how many of them are retrying. */
    final AtomicInteger requestsInFlight = new AtomicInteger();
    final AtomicInteger retrying = new AtomicInteger();
    final LongAdder retries = new LongAdder();
    final LongAdder retriesExhausted = new LongAdder();
    final LongAdder retryBudgetExceeded = new LongAdder();
    /** When the last budget refusal was logged (nanoTime), for one log line per minute. */
    final java.util.concurrent.atomic.AtomicLong budgetLoggedNanos = new java.util.concurrent.atomic.AtomicLong();

    HostState(HostKey key, HostSlots slots) {
        this.key = key;
        this.slots = slots;
    }

    public HostKey key() {
        return key;
    }

    public int limit() {
        return slots.limit();
    }

    /** The destination's share of a fleet-wide cap, or null when it has none. */
    public FleetHost fleet() {
        return slots.fleet();
    }

    /** Whether the limit was set at run time (JMX) rather than from configuration. */
    public boolean limitOverridden() {
        return limitOverridden;
    }

    public int open() {
        return open.get();
    }

    /** Connections handed over from a request that ended to one that waited (reused, never idle). */
    public long handOvers() {
        return handOvers.sum();
    }

    public int idle() {
        return idle.get();
    }

    public int inUse() {
        return Math.max(0, open.get() - idle.get());
    }

    public int queued() {
        return slots.queued();
    }

    public int peakOpen() {
        return peakOpen.get();
    }

    public long connects() {
        return connects.sum();
    }

    /** Connects that had to wait in line for a slot. */
    public long waits() {
        return waits.sum();
    }

    public long totalWaitMillis() {
        return waitNanos.sum() / 1_000_000L;
    }

    public long queueTimeouts() {
        return queueTimeouts.sum();
    }

    public long queueFull() {
        return queueFull.sum();
    }

    public long reclaimed() {
        return reclaimed.sum();
    }

    public long leaks() {
        return ageLeaks.sum() + garbageLeaks.sum();
    }

    /** Leaks reported by the age detector: borrowed, not returned, and idle for the threshold. */
    public long ageLeaks() {
        return ageLeaks.sum();
    }

    /** Leaks found when a connection, or the handle of a borrowed one, became garbage without close. */
    public long garbageLeaks() {
        return garbageLeaks.sum();
    }

    /**
     * Connects let through over the limit because they were made on an event-loop thread that
     * must never wait (see {@code Governor#beforeConnect}).
     */
    public long ungoverned() {
        return ungoverned.sum();
    }

    /** Retries made: another attempt after a refused response or a refused connect. */
    public long retries() {
        return retries.sum();
    }

    /** Requests whose retries ended with a refusal passed on to the caller. */
    public long retriesExhausted() {
        return retriesExhausted.sum();
    }

    /** Refusals passed on at once because the host's retry budget was in use. */
    public long retryBudgetExceeded() {
        return retryBudgetExceeded.sum();
    }

    /** Requests to this host in flight under the retry policy. */
    public int requestsInFlight() {
        return requestsInFlight.get();
    }

    /** Of {@link #requestsInFlight()}, how many are retrying (waiting or re-sent). */
    public int retryingNow() {
        return retrying.get();
    }

    /** Whether a budget refusal should be logged now: true at most once per {@code intervalNanos}. */
    public boolean budgetLogDue(long intervalNanos) {
        long now = System.nanoTime();
        long last = budgetLoggedNanos.get();
        return (last == 0 || now - last >= intervalNanos) && budgetLoggedNanos.compareAndSet(last, now == 0 ? 1 : now);
    }

    /** Takes one of the host's retry places if fewer than {@code allowed} are taken. */
    boolean startRetrying(int allowed) {
        int now;
        do {
            now = retrying.get();
            if (now >= allowed) {
                return false;
            }
        } while (!retrying.compareAndSet(now, now + 1));
        return true;
    }

    /** Raises the peak to what is open now. */
    void recordPeak() {
        int now = open.get();
        int peak;
        while (now > (peak = peakOpen.get())) {
            if (peakOpen.compareAndSet(peak, now)) {
                break;
            }
        }
    }

    /** Sets the peak back to what is open now (a JMX operation, for watching one incident). */
    void resetPeak() {
        peakOpen.set(open.get());
    }
}

package io.connguard.agent.core.fleet;

import io.connguard.agent.core.HostKey;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One destination's share of a fleet-wide cap, as seen by this JVM. Connects take permits from a
 * local fair line ({@link #gate}) and never talk to the store themselves; the
 * {@link FleetCoordinator}'s thread fills the line from the store, gives spare permits back, and
 * switches to the local fallback cap when the store cannot be reached.
 *
 * <p>The accounting is one number, the <em>allowance</em>: the permits this JVM holds in the store
 * (fleet mode) or the fallback cap (fallback mode). The gate's free permits are always the
 * allowance minus the connections holding one minus the permits on their way back. Changing the
 * allowance adds the difference to the gate, whatever is open at that moment, the way a local
 * limit change does.
 */
public final class FleetHost {

    /** The allowance that stands for "no cap" (fallback limit 0): more than any JVM has sockets. */
    static final int NO_CAP = 1 << 30;

    private final HostKey key;
    private final int cap;
    private final FleetCoordinator coordinator;
    private final Gate gate = new Gate();
    /** Connections holding a permit now. */
    final AtomicInteger inUse = new AtomicInteger();
    /** Connects waiting in {@link #tryAcquire} (registered before they wait, so the thread sees them). */
    final AtomicInteger demand = new AtomicInteger();
    /** Permits released while other JVMs wait: they go back to the store, not to this JVM's line. */
    final AtomicInteger toReturn = new AtomicInteger();
    /** Set on every acquire; the thread reads and clears it to see whether the destination is busy. */
    volatile boolean active;
    /** A connect found no spare permit here (set before it waits, or goes ahead if it may not wait). */
    volatile boolean missed;

    // Written by the coordinator's thread only (read by JMX and metrics).
    volatile boolean fleetMode = true;
    volatile int allowance;
    volatile int fleetInUse = -1;
    volatile boolean contended;
    volatile long lastSyncNanos;
    volatile long lastExchangeNanos = -1;
    /** Connects of this JVM in the fleet's line at the last exchange (their tickets stay until told otherwise). */
    volatile int lastPending;
    volatile long nextProbeNanos;
    volatile long fallbackSinceNanos;
    /** While the store answers again but other JVMs may not have re-claimed yet: when fleet mode resumes; 0 = not rejoining. */
    volatile long rejoinUntilNanos;
    volatile long lastActiveNanos = System.nanoTime();
    final LongAdder grants = new LongAdder();
    final LongAdder waits = new LongAdder();
    final LongAdder fallbacks = new LongAdder();

    FleetHost(HostKey key, int cap, FleetCoordinator coordinator) {
        this.key = key;
        this.cap = cap;
        this.coordinator = coordinator;
    }

    public HostKey key() {
        return key;
    }

    /** The fleet-wide cap on open connections to this destination. */
    public int cap() {
        return cap;
    }

    /** Takes a permit if one is free here and nobody waits ahead; never blocks, never calls the store. */
    boolean tryAcquireNow() {
        if (!active) {
            active = true; // read first: no shared-cache-line write on every connect
        }
        if (!gate.hasQueuedThreads() && gate.tryAcquire()) {
            inUse.incrementAndGet();
            if (gate.availablePermits() == 0 && fleetMode) {
                coordinator.wake(); // the last spare permit went: fetch more before someone has to wait
            }
            return true;
        }
        missed = true;
        coordinator.wake();
        return false;
    }

    /** Waits in FIFO order for a permit, at most {@code timeoutNanos}; the coordinator fetches it. */
    boolean tryAcquire(long timeoutNanos) throws InterruptedException {
        if (!active) {
            active = true; // read first: no shared-cache-line write on every connect
        }
        waits.increment();
        demand.incrementAndGet();
        try {
            coordinator.wake();
            if (gate.tryAcquire(timeoutNanos, TimeUnit.NANOSECONDS)) {
                inUse.incrementAndGet();
                return true;
            }
            return false;
        } finally {
            demand.decrementAndGet();
        }
    }

    void release() {
        inUse.decrementAndGet();
        if (contended && fleetMode) {
            toReturn.incrementAndGet();
            coordinator.wake();
        } else {
            gate.release();
        }
    }

    /** Free permits in this JVM's line now (may be negative right after the allowance shrank). */
    int available() {
        return gate.availablePermits();
    }

    int queued() {
        return gate.getQueueLength();
    }

    /** Adds {@code delta} to the gate's free permits (the coordinator's thread only). */
    void adjust(int delta) {
        if (delta > 0) {
            gate.release(delta);
        } else if (delta < 0) {
            gate.reduce(-delta);
        }
    }

    /** Takes up to {@code n} free permits out of the line, for giving back; returns how many. */
    int drain(int n) {
        int taken = 0;
        while (taken < n && gate.tryAcquire()) {
            taken++;
        }
        return taken;
    }

    /** Whether this JVM takes part in the fleet cap now (false while the store cannot be reached). */
    public boolean fleetMode() {
        return fleetMode;
    }

    /** Whether the store answers again and this JVM waits out the rejoin window at its fallback cap. */
    public boolean rejoining() {
        return !fleetMode && rejoinUntilNanos != 0;
    }

    /** Permits this JVM holds in the store (fleet mode), or the fallback cap (fallback mode; 0 = no cap). */
    public int allowance() {
        int a = allowance;
        return a >= NO_CAP ? 0 : a;
    }

    /** Permits held by every JVM together, as last seen; -1 before the first exchange. */
    public int fleetInUse() {
        return fleetInUse;
    }

    public int inUse() {
        return inUse.get();
    }

    /** Whether other JVMs were waiting for this destination at the last exchange. */
    public boolean contended() {
        return contended;
    }

    /** Times this destination switched to the fallback cap. */
    public long fallbacks() {
        return fallbacks.sum();
    }

    /** How long the last exchange with the store for this destination took; -1 before the first. */
    public long lastExchangeNanos() {
        return lastExchangeNanos;
    }

    /** Connects that had to wait for a fleet permit (none was spare here). */
    public long waits() {
        return waits.sum();
    }

    /** Permits the store granted this JVM so far. */
    public long grants() {
        return grants.sum();
    }

    /** A fair semaphore whose permits can be taken away. */
    private static final class Gate extends Semaphore {
        private static final long serialVersionUID = 1L;

        Gate() {
            super(0, true);
        }

        void reduce(int n) {
            reducePermits(n);
        }
    }
}

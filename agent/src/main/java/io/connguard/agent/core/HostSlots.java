package io.connguard.agent.core;

import io.connguard.agent.core.fleet.FleetHost;
import io.connguard.agent.core.line.HostLine;

/**
 * Slot accounting for one destination: how many connections may be open, and the fair line of
 * connects waiting for one. The local, in-process {@link LocalSlotStore} is the default; a
 * fleet-wide store (permits leased from a shared service) can implement the same interface
 * without touching the hooks or the {@link Governor}.
 */
public interface HostSlots {

    /** Takes a slot if one is free and nobody is waiting ahead; never blocks. */
    boolean tryAcquireNow();

    /**
     * Waits in FIFO order for a slot, at most {@code timeoutNanos}.
     *
     * @return true if a slot was taken
     */
    boolean tryAcquire(long timeoutNanos) throws InterruptedException;

    /** Gives one slot back. Called exactly once for each slot taken. */
    void release();

    /** The limit in force; 0 means no limit. */
    int limit();

    /** Changes the limit; raising it admits waiters at once. 0 means no limit. */
    void setLimit(int newLimit);

    /** Slots free right now (a large number when there is no limit). */
    int available();

    /** Connects waiting in line right now (an estimate, as every concurrent count is). */
    int queued();

    /** The fleet-wide share of this destination, or null when it has no fleet cap. */
    default FleetHost fleet() {
        return null;
    }

    /**
     * The local line that hands out this destination's slots, through which pool requests wait
     * for a connection and reclaims are planned; null for a store without one.
     */
    default HostLine line() {
        return null;
    }
}

package io.connguard.agent.core.fleet;

import io.connguard.agent.core.HostKey;

/**
 * The shared store of fleet permits: Redis in the agent, an in-memory store in tests. Only the
 * {@link FleetCoordinator}'s thread calls it, one destination at a time.
 */
public interface FleetBackend {

    /**
     * One exchange for one destination, atomic in the store: this JVM now holds {@code held}
     * permits (it is the authority on its own holdings: fewer than before gives permits back, more
     * re-claims permits after a lost lease or a fallback), {@code pending} of its connects wait for
     * one (each holds a ticket in the fleet's line, first come first served across the fleet), and
     * it would take {@code extra} more as spares if nobody waits. Renews this JVM's lease.
     *
     * @throws Exception when the store cannot be reached in time: the coordinator falls back
     */
    Sync sync(HostKey host, int cap, int held, int pending, int extra) throws Exception;

    /** Gives up every permit and place in line of this JVM (shutdown); best effort. */
    default void releaseAll(HostKey host, int cap) throws Exception {
        sync(host, cap, 0, 0, 0);
    }

    /** Where the store is, for log lines: never credentials. */
    String describe();

    /**
     * The store answered, with an error for this destination (a missing permission, a key on
     * another cluster node): only this destination falls back; other exceptions mean the store
     * cannot be reached at all.
     */
    final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        public Refused(String message) {
            super(message);
        }
    }

    /**
     * The outcome of {@link #sync}.
     *
     * @param granted       permits granted to this JVM by this exchange
     * @param fleetInUse    permits held by every live JVM together, after this exchange
     * @param othersWaiting connects of other JVMs waiting in line for this destination
     */
    record Sync(int granted, int fleetInUse, int othersWaiting) {
    }
}

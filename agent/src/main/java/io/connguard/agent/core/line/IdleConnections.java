package io.connguard.agent.core.line;

/**
 * The idle pooled connections of one destination, as the {@link HostLine} needs to see them to
 * plan a reclaim. The Governor implements it over its leases; the line never names a lease or a
 * client.
 */
public interface IdleConnections {

    /**
     * Calls {@code visitor} for every connection idle in a pool now. Runs under the line's lock:
     * must not block and must not call the line.
     */
    void forEachIdle(Visitor visitor);

    /**
     * Closes {@code connection} the way its pool would, so that its slot is released (once, through
     * {@link HostLine#release}, which gives it to the head of the line). Called outside the line's
     * lock by the waiter that planned it.
     *
     * @return false if it was no longer idle (a pool lent it out meanwhile): the waiter plans again
     */
    boolean reclaim(Object connection);

    interface Visitor {
        /** {@code idleSinceNanos} is the {@link System#nanoTime()} at which it went idle. */
        void idle(Object pool, Object connection, long idleSinceNanos);
    }
}

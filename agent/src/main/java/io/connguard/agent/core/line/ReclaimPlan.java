package io.connguard.agent.core.line;

import java.util.function.Predicate;

/**
 * Which idle connection to close for the head of a line, and when: a pure decision.
 *
 * <ul>
 *   <li>Only when the capacity sits in another pool: a connection of a pool that has waiters is
 *       handed over when it comes back ({@link HostLine#offerIdle}), so it is normally never idle.
 *       One that is anyway (a request of its pool joined the line while it was being put back) is
 *       chosen only when no connection of a pool without waiters is idle, so that nobody waits
 *       for it forever.</li>
 *   <li>Least recently used first.</li>
 *   <li>Never before it has been idle for the settle time, unless the head would wait past its
 *       deadline for that: then at once.</li>
 * </ul>
 */
public final class ReclaimPlan {

    private final Object connection;
    private final Object pool;
    private final long atNanos;

    private ReclaimPlan(Object connection, Object pool, long atNanos) {
        this.connection = connection;
        this.pool = pool;
        this.atNanos = atNanos;
    }

    /** The connection to close. */
    public Object connection() {
        return connection;
    }

    public Object pool() {
        return pool;
    }

    /** The {@link System#nanoTime()} from which it may be closed. */
    public long atNanos() {
        return atNanos;
    }

    /** Whether it may be closed at {@code nowNanos}. */
    public boolean due(long nowNanos) {
        return nowNanos - atNanos >= 0;
    }

    /**
     * @param poolWaits      whether a pool has requests waiting in the line
     * @param deadlineNanos  when the head of the line gives up
     * @return the plan, or null when nothing is idle
     */
    public static ReclaimPlan choose(IdleConnections idle, Predicate<Object> poolWaits, long nowNanos,
                                     long settleNanos, long deadlineNanos) {
        Finder f = new Finder(poolWaits);
        idle.forEachIdle(f);
        boolean free = f.freeConnection != null;
        Object c = free ? f.freeConnection : f.waitedConnection;
        if (c == null) {
            return null;
        }
        long since = free ? f.freeSince : f.waitedSince;
        long at = since + settleNanos;
        if (at - deadlineNanos > 0) {
            at = nowNanos; // waiting out the settle time would outlast the deadline
        }
        return new ReclaimPlan(c, free ? f.freePool : f.waitedPool, at);
    }

    private static final class Finder implements IdleConnections.Visitor {
        private final Predicate<Object> poolWaits;
        Object freeConnection;
        Object freePool;
        long freeSince;
        Object waitedConnection;
        Object waitedPool;
        long waitedSince;

        Finder(Predicate<Object> poolWaits) {
            this.poolWaits = poolWaits;
        }

        @Override
        public void idle(Object pool, Object connection, long idleSinceNanos) {
            if (!poolWaits.test(pool)) {
                if (freeConnection == null || idleSinceNanos - freeSince < 0) {
                    freeConnection = connection;
                    freePool = pool;
                    freeSince = idleSinceNanos;
                }
            } else if (waitedConnection == null || idleSinceNanos - waitedSince < 0) {
                waitedConnection = connection;
                waitedPool = pool;
                waitedSince = idleSinceNanos;
            }
        }
    }
}

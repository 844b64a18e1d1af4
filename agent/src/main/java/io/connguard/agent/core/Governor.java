package io.connguard.agent.core;

import io.connguard.ConnectionLimitException;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The policy core: per-destination slots, the FIFO line, idle reclaim and leak release. Pure Java,
 * no Byte Buddy, no logging, no JMX: the hooks call it, JMX and logs read it (through the
 * {@link Listener}).
 *
 * <p>The path of a connect: {@link #beforeConnect} takes a slot now, or reclaims the least
 * recently used idle pooled connection to that destination and waits in line; the real connect
 * runs; {@link #connectFailed} or {@link #closed} gives the slot back; a connection that becomes
 * garbage without close is released by {@link #releaseCollected}.
 */
public final class Governor {

    /** Where limits come from (configuration); consulted once per new destination. */
    public interface LimitResolver {
        int limitFor(String host, int port);
    }

    /**
     * Whether the current connect may wait in line. Asked only when it would have to wait, so it
     * may be costly (a stack walk) without slowing the fast path.
     */
    public interface WaitPolicy {
        boolean mayWait(Object connection, boolean blocking);
    }

    /** Closes a pooled connection the way its pool would (see {@link #idle}). */
    public interface PooledCloser {
        void close(Object pooled) throws Throwable;
    }

    /** Events for logs and JMX. Called on the thread that caused them; must not block. */
    public interface Listener {
        default void hostAdded(HostState host) {
        }

        default void leaked(HostState host, Lease lease, long ageMillis) {
        }

        default void queueTimedOut(HostState host, long waitedMillis, boolean callerTimeout) {
        }

        default void queueFull(HostState host) {
        }

        default void ungoverned(HostState host, String threadName) {
        }

        default void reclaimFailed(HostState host, Throwable error) {
        }
    }

    /**
     * Returned by {@link #beforeConnect} when this call took a slot without waiting, so that the
     * hook knows a failure of this connect must give it back (a failure of a connect that took
     * nothing, such as a second {@code connect} on a connected socket, must not).
     */
    public static final Object ACQUIRED = new Object() {
        @Override
        public String toString() {
            return "ACQUIRED";
        }
    };

    /** Returned by {@link #beforeConnect} when this call took nothing. */
    private static final Object NOTHING = null;

    private final LimitResolver limits;
    private final SlotStore store;
    private final long queueTimeoutNanos;
    private final int queueMax;
    private final Listener listener;
    private final WaitPolicy waitPolicy;

    private final ConcurrentHashMap<HostKey, HostState> hosts = new ConcurrentHashMap<>();
    /** Every open lease, keyed by itself; found by connection through {@link Lease.Probe}. */
    private final ConcurrentHashMap<Object, Lease> leases = new ConcurrentHashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();

    public Governor(LimitResolver limits, SlotStore store, long queueTimeoutMillis, int queueMax, Listener listener) {
        this(limits, store, queueTimeoutMillis, queueMax, listener, (connection, blocking) -> blocking);
    }

    public Governor(LimitResolver limits, SlotStore store, long queueTimeoutMillis, int queueMax, Listener listener,
                    WaitPolicy waitPolicy) {
        this.waitPolicy = waitPolicy;
        this.limits = limits;
        this.store = store;
        this.queueTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(queueTimeoutMillis);
        this.queueMax = queueMax;
        this.listener = listener;
    }

    /**
     * A client connection is about to connect to {@code host:port}.
     *
     * @param timeoutMillis the caller's connect timeout, 0 for none; a wait never exceeds it
     * @param blocking      false for a non-blocking channel connect; whether a connect that has to
     *                      wait may do so is the {@link WaitPolicy}'s call. One that may not (a
     *                      non-blocking connect, a selector or event-loop thread) takes a free slot
     *                      if there is one after reclaiming an idle one, and otherwise goes ahead
     *                      ungoverned, counted and logged: blocking a loop would stall every
     *                      connection it serves, and a non-blocking caller never expects to block
     * @return {@link #ACQUIRED} if this call took a slot; an {@link Integer} if it took one after
     *         waiting, the caller's timeout in milliseconds minus the wait, to connect with;
     *         {@code null} if it took nothing (already counted, or ungoverned on an event loop);
     *         or the {@link IOException} to throw instead of connecting
     */
    public Object beforeConnect(Object connection, String host, int port, long timeoutMillis, boolean blocking) {
        if (lookup(connection) != null) {
            return NOTHING; // already counted: a nested or repeated connect of the same object
        }
        HostState h = host(host, port);
        if (h.slots.tryAcquireNow()) {
            track(connection, h);
            return ACQUIRED;
        }
        return slowPath(connection, h, timeoutMillis, blocking);
    }

    private Object slowPath(Object connection, HostState h, long timeoutMillis, boolean blocking) {
        h.waiting.incrementAndGet();
        try {
            // Idle pooled connections hold slots: give one back before waiting for it. Counted in
            // 'waiting' first, so that a connection going idle concurrently sees us and reclaims.
            reclaimIdle(h);
            if (!waitPolicy.mayWait(connection, blocking)) {
                if (!h.slots.tryAcquireNow()) {
                    h.ungoverned.increment();
                    listener.ungoverned(h, Thread.currentThread().getName());
                    return NOTHING;
                }
                track(connection, h);
                return ACQUIRED;
            }
            if (h.slots.queued() >= queueMax) {
                h.queueFull.increment();
                listener.queueFull(h);
                return queueFullException(h);
            }
            long budget = queueTimeoutNanos;
            boolean callerBound = false;
            if (timeoutMillis > 0 && TimeUnit.MILLISECONDS.toNanos(timeoutMillis) < budget) {
                budget = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
                callerBound = true;
            }
            h.waits.increment();
            long start = System.nanoTime();
            // A thread interrupted before it had to wait connects normally without the agent (a
            // platform thread's Socket.connect ignores the flag), so only an interrupt that
            // arrives while waiting ends the wait; the flag is kept either way.
            boolean interruptedBefore = Thread.interrupted();
            boolean acquired;
            try {
                acquired = budget > 0 && h.slots.tryAcquire(budget);
            } catch (InterruptedException e) {
                interruptedBefore = true;
                return new InterruptedIOException("connguard: interrupted while waiting for a connection slot to "
                        + h.key());
            } finally {
                if (interruptedBefore) {
                    Thread.currentThread().interrupt();
                }
            }
            long waited = System.nanoTime() - start;
            h.waitNanos.add(waited);
            if (!acquired) {
                h.queueTimeouts.increment();
                listener.queueTimedOut(h, TimeUnit.NANOSECONDS.toMillis(waited), callerBound);
                return timeoutException(h, TimeUnit.NANOSECONDS.toMillis(waited), callerBound, timeoutMillis);
            }
            track(connection, h);
            if (timeoutMillis > 0) {
                long left = timeoutMillis - TimeUnit.NANOSECONDS.toMillis(waited);
                return (int) Math.max(1, Math.min(Integer.MAX_VALUE, left));
            }
            return ACQUIRED;
        } finally {
            h.waiting.decrementAndGet();
        }
    }

    private void track(Object connection, HostState h) {
        Lease lease = new Lease(connection, h, collected, System.currentTimeMillis(), Thread.currentThread().getName());
        // Visible to close() last, so a release never runs before the host counts the lease. A
        // close racing with this (a watchdog closing a socket mid-connect) finds nothing, but
        // then the real connect fails on the closed socket and connectFailed releases it.
        h.leases.add(lease);
        h.recordOpen();
        h.connects.increment();
        leases.put(lease, lease);
    }

    /** The connect that {@link #beforeConnect} let through failed. */
    public void connectFailed(Object connection) {
        release(lookup(connection));
    }

    /** The connection was closed; safe to call for untracked and already closed connections. */
    public void closed(Object connection) {
        release(lookup(connection));
    }

    /**
     * A pool is taking the connection back as idle; if it must be reclaimed, {@code closer}
     * closes {@code pooled} (the pool's own connection object, so the pool's bookkeeping sees the
     * close). Call this before the connection becomes visible in the pool: marking it idle
     * afterwards could mark a connection that another thread has already taken out again.
     *
     * @return the lease, to pass to {@link #returned} once the pool holds the connection, or null
     */
    public Lease idle(Object connection, Object pooled, PooledCloser closer) {
        Lease lease = lookup(connection);
        if (lease == null) {
            return null;
        }
        // Set before the state change that publishes them; a failed change leaves them alone,
        // since they can only belong to this same connection.
        lease.idleHandle = pooled;
        lease.idleCloser = closer;
        lease.idleSinceNanos = System.nanoTime();
        if (lease.transition(Lease.IN_USE, Lease.IDLE)) {
            lease.host.idle.incrementAndGet();
            return lease;
        }
        return null;
    }

    /**
     * The pool now holds the connection. If connects to its destination are waiting for a slot,
     * the least recently used idle connection is reclaimed at once: otherwise every caller could
     * end up waiting in connect while the pool holds all the slots idle (a deadlock until the
     * queue timeout).
     */
    public void returned(Lease lease) {
        HostState h = lease.host;
        if (h.waiting.get() > h.slots.available()) {
            reclaimIdle(h);
        }
    }

    /**
     * A pool is handing the connection out again.
     *
     * @return false if ConnGuard reclaimed (closed) it and the pool must not hand it out
     */
    public boolean taken(Object connection, boolean closed) {
        Lease lease = lookup(connection);
        if (lease == null) {
            // Untracked (opened before the agent, or already reclaimed and released): usable
            // only if nobody closed it.
            return !closed;
        }
        if (lease.transition(Lease.IDLE, Lease.IN_USE)) {
            lease.idleHandle = null;
            lease.idleCloser = null;
            lease.host.idle.decrementAndGet();
            return true;
        }
        int state = lease.state();
        return state == Lease.IN_USE;
    }

    /**
     * Closes the least recently used idle pooled connection to {@code h}, if there is one.
     * Never touches a connection in use: the IDLE to RECLAIMING step is a compare-and-set that a
     * pool handing the connection out ({@link #taken}) races against, and only one side wins.
     *
     * @return true if one was closed
     */
    public boolean reclaimIdle(HostState h) {
        while (h.idle.get() > 0) {
            Lease oldest = null;
            long oldestSince = 0;
            for (Lease l : h.leases) {
                if (l.state() == Lease.IDLE && (oldest == null || l.idleSinceNanos - oldestSince < 0)) {
                    oldest = l;
                    oldestSince = l.idleSinceNanos;
                }
            }
            if (oldest == null) {
                return false;
            }
            if (!oldest.transition(Lease.IDLE, Lease.RECLAIMING)) {
                continue; // handed out or closed meanwhile: look again
            }
            h.idle.decrementAndGet();
            Object handle = oldest.idleHandle;
            PooledCloser closer = oldest.idleCloser;
            oldest.idleHandle = null;
            oldest.idleCloser = null;
            h.reclaimed.increment();
            try {
                if (handle != null && closer != null) {
                    closer.close(handle); // the close hook releases the lease
                }
            } catch (Throwable t) {
                listener.reclaimFailed(h, t);
            } finally {
                release(oldest); // in case the close did not reach our hook
            }
            return true;
        }
        return false;
    }

    /**
     * Releases the slots of connections that became garbage without being closed. Returns the
     * number released. Called by the reaper thread; {@code timeoutMillis} bounds the wait for the
     * first one (0 = do not wait).
     */
    public int releaseCollected(long timeoutMillis) throws InterruptedException {
        int n = 0;
        Reference<?> ref = timeoutMillis > 0 ? collected.remove(timeoutMillis) : collected.poll();
        while (ref != null) {
            Lease lease = (Lease) ref;
            long age = System.currentTimeMillis() - lease.openedAtMillis;
            if (release(lease)) {
                lease.host.leaks.increment();
                listener.leaked(lease.host, lease, age);
                n++;
            }
            ref = collected.poll();
        }
        return n;
    }

    /** @return true if this call gave the slot back (exactly one call per lease does) */
    private boolean release(Lease lease) {
        if (lease == null) {
            return false;
        }
        int s;
        do {
            s = lease.state();
            if (s == Lease.RELEASED) {
                return false;
            }
        } while (!lease.transition(s, Lease.RELEASED));
        HostState h = lease.host;
        if (s == Lease.IDLE) {
            h.idle.decrementAndGet();
        }
        lease.idleHandle = null;
        lease.idleCloser = null;
        leases.remove(lease);
        h.leases.remove(lease);
        lease.clear();
        h.open.decrementAndGet();
        h.slots.release();
        return true;
    }

    private Lease lookup(Object connection) {
        return connection == null ? null : leases.get(new Lease.Probe(connection));
    }

    /** The state of a destination, created with its configured limit on first use. */
    public HostState host(String host, int port) {
        HostKey key = new HostKey(host, port);
        HostState h = hosts.get(key);
        if (h != null) {
            return h;
        }
        boolean[] created = new boolean[1];
        h = hosts.computeIfAbsent(key, k -> {
            created[0] = true;
            return new HostState(k, store.create(k, Math.max(0, limits.limitFor(k.host(), k.port()))));
        });
        if (created[0]) {
            listener.hostAdded(h);
        }
        return h;
    }

    /** The destinations seen so far. */
    public Collection<HostState> hosts() {
        return Collections.unmodifiableCollection(hosts.values());
    }

    /**
     * Changes a destination's limit at run time (0 = no limit). Raising it admits waiters at once;
     * lowering it lets open connections finish and makes new connects wait.
     */
    public HostState setLimit(String host, int port, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be 0 (no limit) or more, not " + limit);
        }
        HostState h = host(host, port);
        h.limitLock.lock();
        try {
            h.slots.setLimit(limit);
            h.limitOverridden = true;
        } finally {
            h.limitLock.unlock();
        }
        return h;
    }

    /** Sets every destination's peak back to what is open now. */
    public void resetPeaks() {
        for (HostState h : hosts.values()) {
            h.resetPeak();
        }
    }

    /** A snapshot of every open connection ConnGuard is tracking. */
    public List<Lease> openLeases() {
        return new ArrayList<>(leases.values());
    }

    public int openCount() {
        return leases.size();
    }

    public long queueTimeoutMillis() {
        return TimeUnit.NANOSECONDS.toMillis(queueTimeoutNanos);
    }

    private IOException timeoutException(HostState h, long waitedMillis, boolean callerBound, long callerTimeout) {
        String why = callerBound
                ? "within the caller's connect timeout of " + callerTimeout + " ms"
                : "within " + waitedMillis + " ms (CONNGUARD_QUEUE_TIMEOUT)";
        return new ConnectionLimitException("connguard: no connection slot for " + h.key() + " " + why
                + "; the limit is " + h.limit() + " open connections to this host and " + h.slots.queued()
                + " connects are waiting. Raise it with CONNGUARD_HOST_LIMITS=" + h.key() + "=N (or"
                + " CONNGUARD_MAX_PER_HOST), or wait longer with CONNGUARD_QUEUE_TIMEOUT.",
                h.key().host(), h.key().port(), h.limit(), waitedMillis);
    }

    private IOException queueFullException(HostState h) {
        return new ConnectionLimitException("connguard: no connection slot for " + h.key() + ": the limit is "
                + h.limit() + " open connections to this host and the line of waiting connects is full ("
                + queueMax + ", CONNGUARD_QUEUE_MAX). Raise CONNGUARD_QUEUE_MAX or the host's limit in"
                + " CONNGUARD_HOST_LIMITS=" + h.key() + "=N.",
                h.key().host(), h.key().port(), h.limit(), 0);
    }
}

package io.connguard.agent.core;

import io.connguard.ConnectionLimitException;

import io.connguard.agent.core.fleet.FleetHost;
import io.connguard.agent.core.line.HostLine;
import io.connguard.agent.core.line.IdleConnections;

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
import java.util.concurrent.atomic.AtomicLong;

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

    /** The message of a refused connect's exception, worded outside the core from the {@link Refusal}. */
    public interface Wording {
        String message(Refusal refusal);
    }

    /** Events for logs and JMX. Called on the thread that caused them; must not block. */
    public interface Listener {
        default void hostAdded(HostState host) {
        }

        default void leaked(HostState host, Lease lease, long ageMillis) {
        }

        default void queueTimedOut(HostState host, Refusal refusal) {
        }

        /**
         * A connect's wait in line ended, with a slot ({@code acquired}) or without (timed out);
         * after {@link #queueTimedOut} when it timed out. The time waited is in {@link HostState}'s
         * total as well.
         */
        default void queueWaitEnded(HostState host, long waitedNanos, boolean acquired) {
        }

        default void queueFull(HostState host, Refusal refusal) {
        }

        default void ungoverned(HostState host, String threadName) {
        }

        default void reclaimFailed(HostState host, Throwable error) {
        }

        /** Age detector: a borrowed connection has been held and idle for the threshold. */
        default void leakSuspected(HostState host, Borrow borrow, long heldMillis, long idleMillis) {
        }

        /** A borrow reported by the age detector ended after all (returned or closed). */
        default void leakReturned(HostState host, Borrow borrow, long heldMillis) {
        }

        /**
         * Garbage detector: the user-facing handle of a borrow became garbage while the
         * connection was still lent out; {@code retired} says whether it was closed and taken
         * out of its pool.
         */
        default void handleLeaked(HostState host, Borrow borrow, long heldMillis, boolean retired) {
        }

        /**
         * The callback named {@code callback} threw {@code error}; the Governor caught it and went
         * on, its accounting untouched (see {@link Governor#listenerFailures}). Whatever this one
         * throws is dropped.
         */
        default void listenerFailed(String callback, Throwable error) {
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
    /** The listener given, behind a guard: whatever it throws is counted here and goes no further. */
    private final Listener listener;
    private final AtomicLong listenerFailures = new AtomicLong();
    private final WaitPolicy waitPolicy;
    private final Wording wording;

    private final ConcurrentHashMap<HostKey, HostState> hosts = new ConcurrentHashMap<>();
    /**
     * What {@link #awaitConnection} left for the connect that follows on the same thread: a slot
     * (so that the connect does not queue again) or the refusal it must throw.
     */
    private final ThreadLocal<Reservation> reserved = new ThreadLocal<>();
    /** Every open lease, keyed by itself; found by connection through {@link Lease.Probe}. */
    private final ConcurrentHashMap<Object, Lease> leases = new ConcurrentHashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();
    /** Every connection lent out by an instrumented pool, keyed by itself; found through {@link Identity}. */
    private final ConcurrentHashMap<Object, Borrow> borrows = new ConcurrentHashMap<>();
    private final StackPolicy stacks;
    private final long leakThresholdNanos;
    /** Activity is recorded at most this often per connection: 1/16 of the threshold is plenty. */
    private final long activityGranularityNanos;

    /** For tests and benchmarks that read no exception message: the message is the {@link Refusal} itself. */
    public Governor(LimitResolver limits, SlotStore store, long queueTimeoutMillis, int queueMax, Listener listener) {
        this(limits, store, queueTimeoutMillis, queueMax, listener, Refusal::toString);
    }

    public Governor(LimitResolver limits, SlotStore store, long queueTimeoutMillis, int queueMax, Listener listener,
                    Wording wording) {
        this(limits, store, queueTimeoutMillis, queueMax, listener, (connection, blocking) -> blocking, StackMode.OFF,
                0, wording);
    }

    /**
     * @param stackMode           which opens and borrows capture a stack for leak reports
     * @param leakThresholdMillis held and idle this long, a borrowed connection is reported; 0 = never
     */
    public Governor(LimitResolver limits, SlotStore store, long queueTimeoutMillis, int queueMax, Listener listener,
                    WaitPolicy waitPolicy, StackMode stackMode, long leakThresholdMillis, Wording wording) {
        this(limits, store, queueTimeoutMillis, queueMax, listener, waitPolicy, new StackPolicy(stackMode),
                leakThresholdMillis, wording);
    }

    /** With the {@link StackPolicy} given, so that tests can make a stack capture fail. */
    Governor(LimitResolver limits, SlotStore store, long queueTimeoutMillis, int queueMax, Listener listener,
             WaitPolicy waitPolicy, StackPolicy stacks, long leakThresholdMillis, Wording wording) {
        this.wording = wording;
        this.stacks = stacks;
        this.leakThresholdNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(0, leakThresholdMillis));
        this.activityGranularityNanos = leakThresholdNanos / 16;
        this.waitPolicy = waitPolicy;
        this.limits = limits;
        this.store = store;
        this.queueTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(queueTimeoutMillis);
        this.queueMax = queueMax;
        this.listener = new GuardedListener(listener, listenerFailures);
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
        return beforeConnect(connection, host, port, timeoutMillis, blocking, null);
    }

    /**
     * As above; {@code residue} is closed if the connection becomes garbage without being closed
     * (a {@code SocketChannel}'s file descriptor, which the JDK never closes by itself).
     */
    public Object beforeConnect(Object connection, String host, int port, long timeoutMillis, boolean blocking,
                                java.io.Closeable residue) {
        Lease counted = lookup(connection);
        if (counted != null) {
            if (counted.unconnected) { // its slot was taken for it before the connect: this is that connect
                counted.unconnected = false;
                return ACQUIRED;
            }
            return NOTHING; // already counted: a nested or repeated connect of the same object
        }
        HostState h = host(host, port);
        Reservation r = reserved.get();
        if (r != null && r.host == h) {
            reserved.remove();
            if (r.refusal != null) {
                return r.refusal;
            }
            track(connection, h, residue, false);
            return ACQUIRED;
        }
        if (h.slots.tryAcquireNow()) {
            track(connection, h, residue, false);
            return ACQUIRED;
        }
        return slowPath(connection, h, timeoutMillis, blocking, residue);
    }

    private Object slowPath(Object connection, HostState h, long timeoutMillis, boolean blocking,
                            java.io.Closeable residue) {
        h.waiting.incrementAndGet();
        try {
            // Idle pooled connections hold slots. A local line plans the reclaim for its head (least
            // recently used, of a pool nobody waits for, settled); a fleet permit has no line, so
            // there a connect gives one back before it waits, counted in 'waiting' first, so that
            // a connection going idle concurrently sees it and reclaims.
            boolean lined = lined(h);
            if (!lined) {
                reclaimIdle(h);
            }
            if (!waitPolicy.mayWait(connection, blocking)) {
                if (lined) {
                    reclaimIdle(h); // it cannot wait for a plan: now or never
                }
                if (!h.slots.tryAcquireNow()) {
                    h.ungoverned.increment();
                    listener.ungoverned(h, Thread.currentThread().getName());
                    return NOTHING;
                }
                track(connection, h, residue, false);
                return ACQUIRED;
            }
            if (h.slots.queued() >= queueMax) {
                h.queueFull.increment();
                Refusal full = refusal(h, Refusal.Reason.QUEUE_FULL, 0, 0);
                listener.queueFull(h, full);
                return refused(full);
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
                if (acquired) {
                    // Recorded before anything else can fail (a counter's allocation, a listener):
                    // a slot taken is a lease, or given back by track itself.
                    track(connection, h, residue, false);
                }
            } catch (InterruptedException e) {
                interruptedBefore = true;
                return refused(refusal(h, Refusal.Reason.INTERRUPTED,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), 0));
            } finally {
                if (interruptedBefore) {
                    Thread.currentThread().interrupt();
                }
            }
            long waited = System.nanoTime() - start;
            if (acquired) {
                // Recorded: from here on the connect must see ACQUIRED, or its failure would give
                // nothing back and the lease would later look like a leak.
                try {
                    h.waitNanos.add(waited);
                } catch (Throwable t) {
                    // a counter's allocation failed: the statistic is the least of it
                }
            } else {
                h.waitNanos.add(waited);
            }
            if (!acquired) {
                h.queueTimeouts.increment();
                Refusal timedOut = refusal(h, Refusal.Reason.TIMED_OUT, TimeUnit.NANOSECONDS.toMillis(waited),
                        callerBound ? timeoutMillis : 0);
                listener.queueTimedOut(h, timedOut);
                listener.queueWaitEnded(h, waited, false);
                return refused(timedOut);
            }
            listener.queueWaitEnded(h, waited, true);
            if (timeoutMillis > 0) {
                long left = timeoutMillis - TimeUnit.NANOSECONDS.toMillis(waited);
                return (int) Math.max(1, Math.min(Integer.MAX_VALUE, left));
            }
            return ACQUIRED;
        } finally {
            h.waiting.decrementAndGet();
        }
    }

    /**
     * Records the lease of a slot the caller has just taken. If anything throws before the lease is
     * recorded (an {@code OutOfMemoryError} making the lease or a map entry, a
     * {@code StackOverflowError} walking the stack for a leak report), the slot is given back here
     * and the throwable rethrown: no lease would ever release it, and the hook that catches the
     * throwable lets the connect through ungoverned.
     *
     * @param unconnected counted before its connect ({@link #claimReservation})
     */
    private Lease track(Object connection, HostState h, java.io.Closeable residue, boolean unconnected) {
        Lease lease = null;
        boolean opened = false;
        try {
            lease = new Lease(connection, h, collected, System.currentTimeMillis(), Thread.currentThread().getName());
            lease.stack = stacks.capture();
            lease.residue = residue;
            lease.lastActivityNanos = System.nanoTime();
            lease.unconnected = unconnected;
            // Visible to close() last, so a release never runs before the host counts the lease. A
            // close racing with this (a watchdog closing a socket mid-connect) finds nothing, but
            // then the real connect fails on the closed socket and connectFailed releases it.
            h.open.incrementAndGet();
            opened = true; // from here on, release(lease) undoes everything, exactly once
            h.recordPeak();
            h.leases.add(lease);
            leases.put(lease, lease);
            h.connects.increment();
            return lease;
        } catch (Throwable t) {
            if (opened) {
                release(lease); // unless a close that found it released it already
            } else {
                if (lease != null) {
                    lease.clear();
                }
                h.slots.release();
            }
            throw t;
        }
    }

    /** The connect that {@link #beforeConnect} let through failed. */
    public void connectFailed(Object connection) {
        release(lookup(connection));
    }

    /**
     * Whether {@code connection} is about to close while a connect or request waits for its
     * host's capacity: its slot goes to that waiter at once, so the server had better have
     * processed this close before the waiter's connection arrives.
     */
    public boolean awaited(Object connection) {
        Lease lease = lookup(connection);
        if (lease == null || lease.state() == Lease.RELEASED) {
            return false;
        }
        HostState h = lease.host;
        return h.waiting.get() > 0 || h.slots.queued() > 0;
    }

    /** The connection was closed; safe to call for untracked and already closed connections. */
    public void closed(Object connection) {
        release(lookup(connection));
    }

    /**
     * The connection was closed by a finalizer: its owner became garbage without closing it (JDK
     * 17's {@code HttpURLConnection} response streams close their connection in
     * {@code MeteredStream.finalize}). Released like any close, and reported as a leak.
     */
    public void closedByFinalizer(Object connection) {
        Lease lease = lookup(connection);
        if (lease != null && lease.state() != Lease.IN_USE) {
            release(lease); // idle in a pool that was dropped (Apache 4's manager finalizes): no response leaked
            return;
        }
        if (release(lease)) {
            lease.host.garbageLeaks.increment();
            stacks.leakSeen();
            listener.leaked(lease.host, lease, System.currentTimeMillis() - lease.openedAtMillis);
        }
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
        if (lined(h)) {
            h.slots.line().idleChanged(); // the head plans a reclaim, once it has settled
        } else if (h.waiting.get() > h.slots.available()) {
            reclaimIdle(h);
        }
    }

    /** Whether the host's waits and reclaims go through its local {@link HostLine} alone. */
    private static boolean lined(HostState h) {
        return h.slots.line() != null && h.slots.fleet() == null;
    }

    /**
     * A connection of {@code pool} is about to go idle in it ({@code connection} is what was
     * counted, {@code pooled} what the pool lends out). Call after {@link #idle}, before the pool
     * holds it.
     *
     * @return {@link HostLine.Offer#HANDED_OVER}: a request of {@code pool} waiting in
     *         {@link #awaitConnection} has {@code pooled}, do not pool it; {@link HostLine.Offer#CLOSE}:
     *         close it, the head of the line gets its slot; {@link HostLine.Offer#IDLE}: pool it
     */
    public HostLine.Offer offerIdle(Object connection, Object pool, Object pooled) {
        Lease lease = lookup(connection);
        if (lease == null || !lined(lease.host)) {
            return HostLine.Offer.IDLE;
        }
        HostState h = lease.host;
        // Out of IDLE while the line decides: the waiter it is handed to may run before this
        // returns, and a head planning a reclaim must not find it idle then.
        if (!lease.transition(Lease.IDLE, Lease.IN_USE)) {
            return HostLine.Offer.IDLE; // reclaimed meanwhile: the pool's taken() check drops it
        }
        h.idle.decrementAndGet();
        // Cleared before the line decides, and put back only if it stays ours: once handed over,
        // the request that has it may return it to its pool (idle, with its own handle and closer)
        // before the line's call returns here, and clearing them afterwards would leave an idle
        // lease with no handle, whose reclaim then gave the slot back without closing the
        // connection (still in its pool, and used again uncounted).
        Object handle = lease.idleHandle;
        PooledCloser closer = lease.idleCloser;
        lease.idleHandle = null;
        lease.idleCloser = null;
        lease.idlePool = null;
        HostLine.Offer o = HostLine.Offer.IDLE;
        try {
            o = h.slots.line().offerIdle(pool, pooled);
        } finally {
            if (o == HostLine.Offer.IDLE) {
                lease.idleHandle = handle;
                lease.idleCloser = closer;
                lease.idlePool = pool;
                if (lease.transition(Lease.IN_USE, Lease.IDLE)) {
                    h.idle.incrementAndGet();
                }
            } else {
                // Handed over, or to be closed by the caller (its close hook releases it in use).
                if (o == HostLine.Offer.HANDED_OVER) {
                    h.handOvers.increment();
                } else {
                    h.reclaimed.increment();
                }
            }
        }
        return o;
    }

    /**
     * A request of {@code pool} found no idle connection in it, and is about to connect to
     * {@code host:port}. If the host is at its cap, it waits in the host's line for a connection
     * of its pool (returned: use it as if the pool had lent it) or a slot. A slot, taken now or
     * after waiting, is kept for the next connect to that host on this thread; a refusal is thrown
     * by that connect. {@link #endAwait} gives back what no connect used.
     *
     * @return the connection handed over, or null
     */
    public Object awaitConnection(String host, int port, Object pool, long timeoutMillis) {
        HostState h = host(host, port);
        if (!lined(h) || h.slots.limit() == 0) {
            return null;
        }
        endAwait(); // a reservation left over (its request never reached the end hook) is not kept
        HostLine line = h.slots.line();
        if (line.tryAcquireNow()) {
            reserve(h);
            return null;
        }
        if (!waitPolicy.mayWait(null, true)) {
            return null; // the connect decides, as for any connect that may not wait
        }
        if (line.queued() >= queueMax) {
            h.queueFull.increment();
            Refusal full = refusal(h, Refusal.Reason.QUEUE_FULL, 0, 0);
            listener.queueFull(h, full);
            reserved.set(new Reservation(h, refused(full)));
            return null;
        }
        long budget = queueTimeoutNanos;
        boolean callerBound = false;
        if (timeoutMillis > 0 && TimeUnit.MILLISECONDS.toNanos(timeoutMillis) < budget) {
            budget = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            callerBound = true;
        }
        h.waits.increment();
        long start = System.nanoTime();
        Object got = line.awaitConnection(pool, start + budget);
        long waited = System.nanoTime() - start;
        if (got == HostLine.Admission.SLOT) {
            reserve(h); // first: nothing below may strand the slot
            h.waitNanos.add(waited);
            listener.queueWaitEnded(h, waited, true);
            return null;
        }
        if (!(got instanceof HostLine.Admission)) {
            // A connection handed over holds its slot: it must reach the caller whatever fails
            // below, or nothing but the garbage collector would give it back (as a false leak).
            try {
                h.waitNanos.add(waited);
            } catch (Throwable t) {
                // a counter's allocation failed: the connection matters more than the statistic
            }
            listener.queueWaitEnded(h, waited, true);
            return got;
        }
        h.waitNanos.add(waited);
        if (got == HostLine.Admission.INTERRUPTED) {
            reserved.set(new Reservation(h, refused(refusal(h, Refusal.Reason.INTERRUPTED,
                    TimeUnit.NANOSECONDS.toMillis(waited), 0))));
            return null;
        }
        // TIMEOUT (the line is never FULL: we check first)
        h.queueTimeouts.increment();
        Refusal timedOut = refusal(h, Refusal.Reason.TIMED_OUT, TimeUnit.NANOSECONDS.toMillis(waited),
                callerBound ? timeoutMillis : 0);
        listener.queueTimedOut(h, timedOut);
        listener.queueWaitEnded(h, waited, false);
        reserved.set(new Reservation(h, refused(timedOut)));
        return null;
    }

    /** Keeps the slot just taken for the connect that follows on this thread, or gives it back. */
    private void reserve(HostState h) {
        try {
            reserved.set(new Reservation(h, null));
        } catch (Throwable t) {
            h.slots.release(); // no reservation, so no endAwait or connect would ever give it back
            throw t;
        }
    }

    /** The request that called {@link #awaitConnection} has its connection: give back an unused slot. */
    public void endAwait() {
        Reservation r = reserved.get();
        if (r != null) {
            reserved.remove();
            if (r.refusal == null) {
                r.host.slots.release();
            }
        }
    }

    /**
     * The request that called {@link #awaitConnection} made its connection object, which has not
     * connected yet and may connect on another thread: the slot reserved for it is counted on
     * {@code connection} now (its connect then takes nothing more; its close or its failed connect
     * gives the slot back; {@code residue} is closed if it becomes garbage unclosed).
     *
     * @return the refusal the request must fail with instead, or null
     */
    public IOException claimReservation(Object connection, java.io.Closeable residue) {
        Reservation r = reserved.get();
        if (r == null) {
            return null;
        }
        reserved.remove();
        if (r.refusal != null) {
            return r.refusal;
        }
        if (connection == null || lookup(connection) != null) {
            r.host.slots.release();
            return null;
        }
        track(connection, r.host, residue, true); // gives the slot back itself if it fails
        return null;
    }

    private static final class Reservation {
        final HostState host;
        final IOException refusal;

        Reservation(HostState host, IOException refusal) {
            this.host = host;
            this.refusal = refusal;
        }
    }

    /** The host's idle connections as its line sees them: leases, keyed by themselves. */
    private IdleConnections idleView(HostState h) {
        return new IdleConnections() {
            @Override
            public void forEachIdle(Visitor visitor) {
                for (Lease l : h.leases) {
                    if (l.state() == Lease.IDLE) {
                        visitor.idle(l.idlePool, l, l.idleSinceNanos);
                    }
                }
            }

            @Override
            public boolean reclaim(Object connection) {
                return Governor.this.reclaim(h, (Lease) connection);
            }
        };
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
            lease.idlePool = null;
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
            if (reclaim(h, oldest)) {
                return true;
            } // handed out or closed meanwhile: look again
        }
        return false;
    }

    /** Closes {@code lease}'s idle connection, unless a pool took it out first; true if it did. */
    private boolean reclaim(HostState h, Lease lease) {
        if (!lease.transition(Lease.IDLE, Lease.RECLAIMING)) {
            return false;
        }
        h.idle.decrementAndGet();
        Object handle = lease.idleHandle;
        PooledCloser closer = lease.idleCloser;
        lease.idleHandle = null;
        lease.idleCloser = null;
        h.reclaimed.increment();
        try {
            if (handle != null && closer != null) {
                closer.close(handle); // the close hook releases the lease
            }
        } catch (Throwable t) {
            listener.reclaimFailed(h, t);
        } finally {
            release(lease); // in case the close did not reach our hook
        }
        return true;
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
            if (ref instanceof Borrow.HandleRef) {
                if (handleCollected(((Borrow.HandleRef) ref).borrow)) {
                    n++;
                }
            } else {
                Lease lease = (Lease) ref;
                long age = System.currentTimeMillis() - lease.openedAtMillis;
                java.io.Closeable residue = lease.residue;
                if (release(lease)) {
                    closeResidue(lease.host, residue);
                    lease.host.garbageLeaks.increment();
                    stacks.leakSeen();
                    listener.leaked(lease.host, lease, age);
                    n++;
                }
            }
            ref = collected.poll();
        }
        return n;
    }

    private void closeResidue(HostState h, java.io.Closeable residue) {
        if (residue != null) {
            try {
                residue.close();
            } catch (Throwable t) {
                listener.reclaimFailed(h, t);
            }
        }
    }

    /**
     * The user-facing handle of a borrow became garbage: if the connection is still lent out,
     * nobody can give it back any more. It is retired (closed and removed from its pool): it may
     * hold unread response bytes, so it must never be handed out again.
     */
    private boolean handleCollected(Borrow b) {
        if (!borrows.remove(b, b)) {
            return false; // given back normally; the handle just went out of scope afterwards
        }
        Lease lease = resolve(b);
        HostState h = lease != null ? lease.host : null;
        if (lease != null && lease.borrow == b) {
            lease.borrow = null;
        }
        long held = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - b.borrowedAtNanos);
        boolean retired = false;
        if (b.kind.retirer != null) {
            try {
                b.kind.retirer.retire(b.get(), b.pooled);
                retired = true;
            } catch (Throwable t) {
                listener.reclaimFailed(h, t);
            }
        }
        if (h != null) {
            h.garbageLeaks.increment();
        }
        stacks.leakSeen();
        listener.handleLeaked(h, b, held, retired);
        return true;
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
        // This call, and only this one, gives the slot back: nothing after the compare-and-set
        // may keep it from doing so, and no callback runs before the slot is back.
        HostState h = lease.host;
        try {
            if (s == Lease.IDLE) {
                h.idle.decrementAndGet();
            }
            lease.idleHandle = null;
            lease.idleCloser = null;
            lease.idlePool = null;
            lease.residue = null;
            leases.remove(lease);
            h.leases.remove(lease);
            lease.clear();
        } finally {
            h.open.decrementAndGet();
            h.slots.release();
        }
        Borrow b = lease.borrow;
        if (b != null) {
            endBorrow(b); // lease.borrow stays: a leak report of this lease still names its borrower
        }
        return true;
    }

    private Lease lookup(Object connection) {
        return connection == null ? null : leases.get(new Identity(connection));
    }

    // ---- pool borrows and the leak detectors -------------------------------------------------

    /**
     * A pool of {@code kind} lent a connection to application code.
     *
     * @param key     what the pool's "give back" names ({@link #returnedToPool}); held weakly
     * @param pooled  the pool's connection object, if not {@code key} (held strongly: the pool
     *                holds it anyway); how the socket is found and how it is retired
     * @param counted the socket or channel, if already known; otherwise found when needed
     * @param handle  the user-facing object whose loss means nobody can give the connection back
     *                (a response's connection holder, a call), or null
     * @param site    a stack captured earlier on the caller's thread (asynchronous clients), or
     *                null to capture one here according to the stack mode
     * @param captureHere whether a stack of this thread is worth having when {@code site} is null
     *                (not on an asynchronous client's executor thread)
     */
    public Borrow borrowed(PoolKind kind, Object key, Object pooled, Object counted, Object handle, Throwable site,
                           boolean captureHere) {
        Throwable stack = site != null ? site : captureHere ? stacks.capture() : null;
        Borrow b = new Borrow(key, kind, pooled, System.nanoTime(), System.currentTimeMillis(),
                Thread.currentThread().getName(), stack);
        if (handle != null) {
            b.handle = new Borrow.HandleRef(handle, collected, b);
        }
        Borrow previous = borrows.remove(new Identity(key));
        if (previous != null) {
            unlink(previous); // lent out again without our seeing it come back: that borrow is over
        }
        borrows.put(b, b);
        if (counted != null) {
            link(b, lookup(counted));
        }
        return b;
    }

    /** The thread-captured stack for an asynchronous client to pass to {@link #borrowed} later. */
    public Throwable captureSite() {
        return stacks.capture();
    }

    /** The user-facing handle of the borrow keyed by {@code key}, known only after the borrow. */
    public void attachHandle(Object key, Object handle) {
        Borrow b = key == null ? null : borrows.get(new Identity(key));
        if (b != null && b.handle == null) {
            b.handle = new Borrow.HandleRef(handle, collected, b);
        }
    }

    /** Whether {@link #activity} matters: the age detector is on. */
    public boolean tracksActivity() {
        return leakThresholdNanos > 0;
    }

    /** The borrow keyed by {@code key} is over: the connection went back to its pool or was closed. */
    public void returnedToPool(Object key) {
        if (key == null) {
            return;
        }
        Borrow b = borrows.remove(new Identity(key));
        if (b != null) {
            unlink(b);
            reportReturn(b);
        }
    }

    private void endBorrow(Borrow b) {
        if (borrows.remove(b, b)) {
            reportReturn(b);
        }
    }

    private void reportReturn(Borrow b) {
        if (b.reported) {
            Lease l = b.lease;
            listener.leakReturned(l != null ? l.host : null, b,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - b.borrowedAtNanos));
        }
    }

    private static void unlink(Borrow b) {
        Lease l = b.lease;
        if (l != null && l.borrow == b) {
            l.borrow = null;
        }
    }

    private static void link(Borrow b, Lease lease) {
        if (lease != null) {
            b.lease = lease;
            lease.borrow = b;
        }
    }

    /**
     * A pool is about to close its connections (its client shuts down): its idle connections
     * whose host has waiters are reclaimed now, on this thread, through their closers (which may
     * let the server close first), rather than closed all at once where nobody may wait.
     *
     * @param inPool whether a lease's {@code idlePool} (as given to {@link #offerIdle}) is that pool's
     * @return how many were reclaimed
     */
    public int reclaimClosingPool(java.util.function.Predicate<Object> inPool) {
        int n = 0;
        for (Lease l : leases.values()) {
            HostState h = l.host;
            Object pool = l.idlePool;
            if (l.state() == Lease.IDLE && pool != null && inPool.test(pool)
                    && (h.waiting.get() > 0 || h.slots.queued() > 0) && reclaim(h, l)) {
                n++;
            }
        }
        return n;
    }

    /** Whether this thread may wait (it is no event loop a client module knows). */
    public boolean mayWaitHere() {
        return waitPolicy.mayWait(null, true);
    }

    /**
     * Waits, at most {@code timeoutMillis}, until the connection a reclaim is closing is released,
     * so that a pool that handed it out meanwhile sees it closed. Never parks unboundedly.
     */
    public void awaitReleased(Object connection, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Lease l = lookup(connection);
        while (l != null && l.state() == Lease.RECLAIMING && System.nanoTime() - deadline < 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000);
        }
    }

    /** Bytes went through {@code connection}: it is not idle. */
    public void activity(Object connection) {
        if (borrows.isEmpty()) {
            return; // nothing lent out, nothing to age: the common case of servers and raw sockets
        }
        Lease l = lookup(connection);
        if (l != null) { // (a borrow made before its connect is linked to its lease only later)
            long now = System.nanoTime();
            if (now - l.lastActivityNanos > activityGranularityNanos) {
                l.lastActivityNanos = now; // written rarely, so readers and writers share no hot line
            }
        }
    }

    private Lease resolve(Borrow b) {
        Lease l = b.lease;
        if (l != null && l.state() != Lease.RELEASED) {
            return l;
        }
        try {
            Object counted = b.kind.resolver.counted(b.get(), b.pooled);
            l = lookup(counted);
        } catch (Throwable t) {
            return null;
        }
        if (l != null) {
            link(b, l);
        }
        return l;
    }

    /**
     * The age detector: reports, once each, borrows held for the threshold whose connection has
     * moved no bytes for the threshold either (a long download that keeps reading is no leak).
     * Called by the reaper thread every {@link #leakScanIntervalMillis}.
     *
     * @return how many were reported by this scan
     */
    public int scanForLeaks() {
        long now = System.nanoTime();
        int n = 0;
        for (Borrow b : borrows.values()) {
            if (b.get() == null && b.handle == null) {
                borrows.remove(b, b); // the pool's object itself is gone; its socket reports itself
                continue;
            }
            Lease linked = b.lease;
            if (linked != null && linked.state() == Lease.RELEASED) {
                endBorrow(b); // closed without our seeing the pool's give-back (linked after the close)
                continue;
            }
            if (leakThresholdNanos == 0 || b.reported || now - b.borrowedAtNanos < leakThresholdNanos) {
                continue;
            }
            Lease l = resolve(b);
            if (l == null || l.state() != Lease.IN_USE) {
                continue;
            }
            long last = Math.max(l.lastActivityNanos, b.borrowedAtNanos);
            if (now - last < leakThresholdNanos) {
                continue;
            }
            b.reported = true;
            l.host.ageLeaks.increment();
            stacks.leakSeen();
            listener.leakSuspected(l.host, b, TimeUnit.NANOSECONDS.toMillis(now - b.borrowedAtNanos),
                    TimeUnit.NANOSECONDS.toMillis(now - last));
            n++;
        }
        return n;
    }

    /** How often the reaper runs {@link #scanForLeaks}: a quarter of the threshold, 250 ms to 5 s. */
    public long leakScanIntervalMillis() {
        if (leakThresholdNanos == 0) {
            return 10_000; // only tidies the borrows map
        }
        return Math.max(250, Math.min(5_000, TimeUnit.NANOSECONDS.toMillis(leakThresholdNanos) / 4));
    }

    public long leakThresholdMillis() {
        return TimeUnit.NANOSECONDS.toMillis(leakThresholdNanos);
    }

    /** The borrows the age detector has reported and that have not come back. */
    public List<Borrow> suspectedLeaks() {
        List<Borrow> out = new ArrayList<>();
        for (Borrow b : borrows.values()) {
            if (b.reported) {
                out.add(b);
            }
        }
        return out;
    }

    /** Every connection lent out by an instrumented pool right now. */
    public List<Borrow> borrows() {
        return new ArrayList<>(borrows.values());
    }

    /**
     * Age in milliseconds of the longest-held connection to {@code h} that is in use: since its
     * borrow from a pool, or since it was opened if no pool lent it. 0 if none is in use.
     */
    public long oldestInUseMillis(HostState h) {
        long now = System.currentTimeMillis();
        long oldest = 0;
        for (Lease l : h.leases) {
            if (l.state() != Lease.IN_USE) {
                continue;
            }
            Borrow b = l.borrow;
            long since = b != null ? b.borrowedAtMillis : l.openedAtMillis;
            oldest = Math.max(oldest, now - since);
        }
        return oldest;
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
            HostState s = new HostState(k, store.create(k, Math.max(0, limits.limitFor(k.host(), k.port()))));
            HostLine line = s.slots.line();
            if (line != null) {
                line.idleConnections(idleView(s)); // before anyone can wait in it
            }
            return s;
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
            throw new IllegalArgumentException(Integer.toString(limit)); // the caller checks first and says why
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

    /** Exceptions the {@link Listener} threw, caught and dropped: logging or JMX failed, accounting did not. */
    public long listenerFailures() {
        return listenerFailures.get();
    }

    public long queueTimeoutMillis() {
        return TimeUnit.NANOSECONDS.toMillis(queueTimeoutNanos);
    }

    /**
     * A request to {@code h} waits in its own pool's queue, not in the line, when the pool keeps its
     * per-route limit within the cap (it then never connects past the cap): with {@code waiting}
     * requests of that pool already waiting ({@code waitedNanos < 0}), or after waiting that long
     * for a connection in vain. Counted, reported and worded as the line's refusal would be.
     *
     * @return the refusal to throw, or null if a request may join {@code waiting} others
     */
    public IOException refusedInPool(HostState h, int waiting, long waitedNanos) {
        if (waitedNanos < 0) {
            if (waiting < queueMax) {
                return null;
            }
            h.queueFull.increment();
            Refusal full = refusal(h, Refusal.Reason.QUEUE_FULL, 0, 0);
            listener.queueFull(h, full);
            return refused(full);
        }
        h.queueTimeouts.increment(); // not a wait in the line: Waits and its time stay the line's
        Refusal timedOut = refusal(h, Refusal.Reason.TIMED_OUT, TimeUnit.NANOSECONDS.toMillis(waitedNanos), 0);
        listener.queueTimedOut(h, timedOut);
        listener.queueWaitEnded(h, waitedNanos, false);
        return refused(timedOut);
    }

    /** The exception a refused connect throws instead of connecting. */
    private IOException refused(Refusal r) {
        String message;
        try {
            message = wording.message(r);
        } catch (Throwable t) {
            message = r.toString(); // the refusal stands; only its words failed
        }
        return r.reason() == Refusal.Reason.INTERRUPTED ? new InterruptedIOException(message)
                : new ConnectionLimitException(message, r.host().host(), r.host().port(), r.limit(), r.waitedMillis());
    }

    /** The one value the exception and the log line of a refused connect are worded from. */
    private Refusal refusal(HostState h, Refusal.Reason reason, long waitedMillis, long callerTimeoutMillis) {
        FleetHost f = h.slots.fleet();
        Refusal.Cap cap = f == null ? Refusal.Cap.HOST : f.fleetMode() ? Refusal.Cap.FLEET : Refusal.Cap.FLEET_FALLBACK;
        int capLimit = f == null ? h.limit() : f.fleetMode() ? f.cap() : f.allowance();
        // The limit the exception names: the fleet cap (or fallback) when that is the one that bit.
        int limit = f == null || h.limit() <= 0 ? capLimit : Math.min(h.limit(), capLimit);
        return new Refusal(reason, h.key(), cap, limit, h.limit(), capLimit, f == null ? 0 : Math.max(0, f.fleetInUse()),
                f == null ? 0 : f.inUse(), h.slots.queued(), queueMax, waitedMillis, callerTimeoutMillis);
    }

    /**
     * The listener behind a guard. Listeners log and register MBeans; whatever they throw (a
     * {@code RuntimeException}, an {@code OutOfMemoryError} building a log line, a
     * {@code StackOverflowError} on a deep stack) must neither reach the application nor cut short
     * the accounting around the call: a callback that threw after a slot was recorded made the
     * connect look ungoverned (so its failure released nothing and looked like a leak later), and
     * one inside a release left the slot taken for good. So every callback is caught, counted and
     * dropped here.
     */
    private static final class GuardedListener implements Listener {
        private final Listener delegate;
        private final AtomicLong failures;

        GuardedListener(Listener delegate, AtomicLong failures) {
            this.delegate = delegate;
            this.failures = failures;
        }

        private void failed(String callback, Throwable error) {
            try {
                failures.incrementAndGet();
                delegate.listenerFailed(callback, error);
            } catch (Throwable ignored) {
                // it failed again (a StackOverflowError still on the way, no memory to log): dropped
            }
        }

        @Override
        public void hostAdded(HostState host) {
            try {
                delegate.hostAdded(host);
            } catch (Throwable t) {
                failed("hostAdded", t);
            }
        }

        @Override
        public void leaked(HostState host, Lease lease, long ageMillis) {
            try {
                delegate.leaked(host, lease, ageMillis);
            } catch (Throwable t) {
                failed("leaked", t);
            }
        }

        @Override
        public void queueTimedOut(HostState host, Refusal refusal) {
            try {
                delegate.queueTimedOut(host, refusal);
            } catch (Throwable t) {
                failed("queueTimedOut", t);
            }
        }

        @Override
        public void queueWaitEnded(HostState host, long waitedNanos, boolean acquired) {
            try {
                delegate.queueWaitEnded(host, waitedNanos, acquired);
            } catch (Throwable t) {
                failed("queueWaitEnded", t);
            }
        }

        @Override
        public void queueFull(HostState host, Refusal refusal) {
            try {
                delegate.queueFull(host, refusal);
            } catch (Throwable t) {
                failed("queueFull", t);
            }
        }

        @Override
        public void ungoverned(HostState host, String threadName) {
            try {
                delegate.ungoverned(host, threadName);
            } catch (Throwable t) {
                failed("ungoverned", t);
            }
        }

        @Override
        public void reclaimFailed(HostState host, Throwable error) {
            try {
                delegate.reclaimFailed(host, error);
            } catch (Throwable t) {
                failed("reclaimFailed", t);
            }
        }

        @Override
        public void leakSuspected(HostState host, Borrow borrow, long heldMillis, long idleMillis) {
            try {
                delegate.leakSuspected(host, borrow, heldMillis, idleMillis);
            } catch (Throwable t) {
                failed("leakSuspected", t);
            }
        }

        @Override
        public void leakReturned(HostState host, Borrow borrow, long heldMillis) {
            try {
                delegate.leakReturned(host, borrow, heldMillis);
            } catch (Throwable t) {
                failed("leakReturned", t);
            }
        }

        @Override
        public void handleLeaked(HostState host, Borrow borrow, long heldMillis, boolean retired) {
            try {
                delegate.handleLeaked(host, borrow, heldMillis, retired);
            } catch (Throwable t) {
                failed("handleLeaked", t);
            }
        }
    }
}

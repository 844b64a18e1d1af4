package io.connguard.agent.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;

/**
 * One slot held by one open client connection (a {@code Socket} or a {@code SocketChannel}).
 *
 * <p>It is a {@link PhantomReference} to the connection object, so when the application drops a
 * connection without closing it the lease is enqueued and the {@link Governor} gives the slot
 * back and reports a leak. It never keeps the connection alive, except while the connection sits
 * idle in a pool (then the pool holds it anyway, and the lease needs it to close it on reclaim).
 *
 * <p>States move forward only by compare-and-set, which is what makes every release happen
 * exactly once and keeps reclaim from ever closing a connection a pool has just handed out.
 */
public final class Lease extends PhantomReference<Object> {

    static final int IN_USE = 0;
    static final int IDLE = 1;
    static final int RECLAIMING = 2;
    static final int RELEASED = 3;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Lease.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final HostState host;
    final long openedAtMillis;
    final String threadName;
    private final int hash;
    private final boolean channel;

    @SuppressWarnings("unused") // accessed through STATE
    private volatile int state = IN_USE;
    volatile long idleSinceNanos;
    /** The pool's connection object while it is idle in the pool, and how to close it on reclaim. */
    volatile Object idleHandle;
    volatile Governor.PooledCloser idleCloser;
    /** The pool it went idle in, if the pool names itself ({@link Governor#offerIdle}); null otherwise. */
    volatile Object idlePool;
    /** Where it was opened, if captured (see {@link StackPolicy}). */
    volatile Throwable stack;
    /** Closed if the connection becomes garbage unclosed: a channel's file descriptor. */
    volatile java.io.Closeable residue;
    /** Last time bytes were read or written; tells a slow download from a forgotten response. */
    volatile long lastActivityNanos;
    /** The pool borrow using this connection now, if a pool lent it out. */
    volatile Borrow borrow;
    /**
     * Counted before its connect ({@link Governor#claimReservation}): the connect that comes takes
     * the slot over, so that its failure gives the slot back.
     */
    volatile boolean unconnected;

    Lease(Object connection, HostState host, ReferenceQueue<Object> queue, long nowMillis, String threadName) {
        super(connection, queue);
        this.host = host;
        this.hash = System.identityHashCode(connection);
        this.openedAtMillis = nowMillis;
        this.threadName = threadName;
        this.channel = connection instanceof java.nio.channels.SocketChannel;
    }

    /** A {@code SocketChannel} rather than a {@code Socket}. */
    public boolean isChannel() {
        return channel;
    }

    int state() {
        return (int) STATE.getVolatile(this);
    }

    boolean transition(int from, int to) {
        return STATE.compareAndSet(this, from, to);
    }

    public HostKey hostKey() {
        return host.key();
    }

    public long openedAtMillis() {
        return openedAtMillis;
    }

    public String threadName() {
        return threadName;
    }

    /** Where the connection was opened, or null if no stack was captured. */
    public Throwable stack() {
        return stack;
    }

    /** The borrow using it now, or null. */
    public Borrow borrow() {
        return borrow;
    }

    /** A stable word for the lease's state: in-use, idle, reclaiming, released. */
    public String stateName() {
        switch (state()) {
            case IN_USE:
                return "in-use";
            case IDLE:
                return "idle";
            case RECLAIMING:
                return "reclaiming";
            default:
                return "released";
        }
    }

    /** Identity hash of the connection, so lookups by connection land in the right bin. */
    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }
}

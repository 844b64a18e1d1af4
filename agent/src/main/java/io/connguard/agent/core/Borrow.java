package io.connguard.agent.core;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;

/**
 * One hand-out of a pooled connection to application code: from the moment a client's pool lends
 * it (or opens it for a request) until it goes back, is closed, or its user-facing handle becomes
 * garbage. The leak detectors work on these.
 *
 * <p>A weak reference to its key (the pool's entry, the call, the client object: whatever the
 * client's "give back" hook names), so tracking never keeps an abandoned connection alive.
 */
public final class Borrow extends WeakReference<Object> {

    final PoolKind kind;
    /** The pool-side object the client's hook passed along (a pool, a connection), or null. */
    final Object pooled;
    final long borrowedAtNanos;
    final long borrowedAtMillis;
    final String threadName;
    final Throwable stack;
    private final int hash;
    /** The socket or channel lease under this borrow, once known (a new entry connects later). */
    volatile Lease lease;
    /** Set once by the age detector. */
    volatile boolean reported;
    /** Enqueued when the user-facing handle becomes garbage; held here so it stays registered. */
    volatile HandleRef handle;

    Borrow(Object key, PoolKind kind, Object pooled, long nowNanos, long nowMillis, String threadName, Throwable stack) {
        super(key);
        this.kind = kind;
        this.pooled = pooled;
        this.hash = System.identityHashCode(key);
        this.borrowedAtNanos = nowNanos;
        this.borrowedAtMillis = nowMillis;
        this.threadName = threadName;
        this.stack = stack;
    }

    public String client() {
        return kind.client();
    }

    public String threadName() {
        return threadName;
    }

    public long borrowedAtMillis() {
        return borrowedAtMillis;
    }

    /** Where the connection was borrowed, or null if no stack was captured (the stack mode took none here). */
    public Throwable stack() {
        return stack;
    }

    /** The destination, or null while the connection under this borrow is not known yet. */
    public HostKey hostKey() {
        Lease l = lease;
        return l == null ? null : l.hostKey();
    }

    public boolean reported() {
        return reported;
    }

    public String stateName() {
        Lease l = lease;
        return l == null ? "connecting" : l.stateName();
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    /** Tells the core when a borrow's user-facing handle (a response, a call) became garbage. */
    static final class HandleRef extends PhantomReference<Object> {
        final Borrow borrow;

        HandleRef(Object handle, ReferenceQueue<Object> queue, Borrow borrow) {
            super(handle, queue);
            this.borrow = borrow;
        }
    }
}

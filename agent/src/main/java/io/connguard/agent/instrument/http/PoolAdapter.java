package io.connguard.agent.instrument.http;

import io.connguard.agent.core.Governor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Socket;

import javax.net.ssl.SSLSocket;

/**
 * One client's pool, as the {@link Governor} needs to see it: what the client's pool hooks
 * report (a connection going idle, handed out, lent to the application) turned into calls on the
 * governor, with the socket or channel behind the client's connection object found, and the
 * client's own way to reclaim or retire one. One subclass per client, in its folder.
 */
public abstract class PoolAdapter {

    /** How long a pool handing out a connection that is being reclaimed waits for the close to end. */
    protected static final long RECLAIM_WAIT_MILLIS = 500;

    private static volatile VarHandle sslSelf;

    protected final Governor governor;

    protected PoolAdapter(Governor governor) {
        this.governor = governor;
    }

    /** The pool is about to take back {@code pooled}: the token for {@code pooledReturned}, or null. */
    public abstract Object idle(Object pooled) throws Throwable;

    /** The pool is handing out {@code pooled}: false if ConnGuard reclaimed it and it must not be used. */
    public abstract boolean taken(Object pooled) throws Throwable;

    /** The pool lent a connection to the application (see {@code HookHandler.pooledBorrowed}). */
    public abstract void borrowed(Object key, Object pooled, Object handle) throws Throwable;

    /** The application is shutting {@code client} down, on its own thread; only pools that need it look. */
    public void clientClosing(Object client) throws Throwable {
    }

    /** The current thread is about to lease from {@code pool}; only pools that need it look. */
    public void leasing(Object pool) {
    }

    /**
     * The pool found nothing idle for {@code route}: wait, if the host is at its cap, for a
     * connection of that pool (returned, for the pool to lend as its own) or a slot. Only pools
     * that hand over connections look.
     */
    public Object miss(Object route, Object detail) throws Throwable {
        return null;
    }

    /** {@code pooled} is about to go idle in its pool: true if it was handed over or closed instead. */
    public boolean offer(Object route, Object detail, Object pooled) throws Throwable {
        return false;
    }

    /**
     * The lease announced by {@link #leasing} or {@link #miss} is over; {@code leased} is what it
     * returned (null if it threw).
     *
     * @return a Throwable for the lease to throw instead, anything else for it to return instead, or null
     */
    public Object leaseEnded(Object leased) throws Throwable {
        return null;
    }

    /**
     * A {@code pool} that keeps its own per-route limit ({@code max}) and queue asks it for {@code route}:
     * the limit it must use. Only such pools look.
     */
    public int routeMax(Object pool, Object route, int max) throws Throwable {
        return max;
    }

    /**
     * A pool's blocking lease for {@code route} is about to wait in the pool's own queue at most
     * {@code timeoutMillis} (0: without end): the wait it may take, or -1 to refuse it at once
     * ({@link #leaseEnded} then gives the refusal). Only pools with their own queue look.
     */
    public long leaseTimeout(Object pool, Object route, long timeoutMillis) throws Throwable {
        return timeoutMillis;
    }

    /**
     * For pools that cannot be told "nothing to hand out" at the point we see the hand-out, but
     * check whether what they got is still open and reconnect or skip it if not: when a reclaim
     * won the race for this connection, wait (bounded) until its close has finished, so that the
     * client's own check sees it closed.
     */
    protected final boolean takenOrClosed(Socket socket) throws ReflectiveOperationException {
        if (socket == null) {
            return true; // a new entry, not connected yet
        }
        Socket counted = counted(socket);
        if (!governor.taken(counted, socket.isClosed())) {
            governor.awaitReleased(counted, RECLAIM_WAIT_MILLIS);
        }
        return true;
    }

    /**
     * What the slot was counted on: the socket itself, or for a TLS socket layered over a plain
     * one ({@code HttpsURLConnection} connects a plain socket, then wraps it), the plain one,
     * which {@code sun.security.ssl.BaseSSLSocketImpl.self} holds (JDK 17 and 25). The pooled
     * socket itself stays the handle to close on reclaim, so a TLS connection is closed as TLS
     * (close_notify, then the socket under it).
     */
    protected static Socket counted(Socket socket) throws ReflectiveOperationException {
        if (!(socket instanceof SSLSocket)) {
            return socket;
        }
        VarHandle h = sslSelf;
        if (h == null) {
            Class<?> base = LibraryObjects.superclassNamed(socket.getClass(), "sun.security.ssl.BaseSSLSocketImpl");
            h = MethodHandles.privateLookupIn(base, MethodHandles.lookup()).findVarHandle(base, "self", Socket.class);
            sslSelf = h;
        }
        Socket self = (Socket) h.get(socket);
        return self == null ? socket : self;
    }
}

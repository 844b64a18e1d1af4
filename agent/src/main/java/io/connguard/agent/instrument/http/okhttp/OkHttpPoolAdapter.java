package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.Lease;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.core.line.HostLine;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.PoolAdapter;

import java.lang.reflect.Field;
import java.net.Socket;

/**
 * The OkHttp pool ({@code RealConnectionPool}, 3.14 to 5): a {@code RealConnection}'s
 * {@code socket()} is the counted socket. A borrow is keyed by the call, with its connection;
 * OkHttp prunes a connection whose call was lost.
 *
 * <p><b>Waiting for a connection (OkHttp 4).</b> OkHttp keeps an idle connection in its pool's
 * list: a connection going idle is never "put", it only loses its last call. So the hand-over is
 * made in OkHttp's own terms. When a call's pool lookup misses ({@link #miss}) and the host is at
 * its cap, the call waits in the host's line for a connection of its pool and address. When a
 * connection of that pool and address loses its last call ({@link #offer}, under the connection's
 * lock) and such a call waits, it is handed over: its allocation limit is set to 0, so that
 * OkHttp's own eligibility check refuses it to every other call (the thread that released it,
 * asking for its next connection microseconds later, would otherwise take it), and
 * {@code connectionBecameIdle} is skipped (nothing to schedule: it is not idle for long). The
 * waiter, woken with it, takes the connection's lock as the pool does, puts the limit back, checks
 * it is still eligible and acquires it for its call; the lookup then reports a pooled connection.
 */
final class OkHttpPoolAdapter extends PoolAdapter {

    /** Reclaims an idle connection by closing its socket; OkHttp drops it when it next looks. */
    private static final Governor.PooledCloser CLOSE_SOCKET = pooled -> ((Socket) pooled).close();

    /** An HTTP/1 connection carries one call at a time (OkHttp 4's {@code allocationLimit} outside HTTP/2). */
    private static final int HTTP1_ALLOCATION_LIMIT = 1;
    /** How many times a waiter whose handed connection was evicted meanwhile waits again. */
    private static final int HANDED_ATTEMPTS = 3;

    private static final LibraryObjects.Fn SOCKET = new LibraryObjects.Fn("socket", 0);
    private static final LibraryObjects.Fn IS_MULTIPLEXED = new LibraryObjects.Fn("isMultiplexed$okhttp", 0);
    private static final LibraryObjects.Fn NO_NEW_EXCHANGES = new LibraryObjects.Fn("getNoNewExchanges", 0);
    private static final LibraryObjects.Fn SET_NO_NEW_EXCHANGES = new LibraryObjects.Fn("setNoNewExchanges", 1);
    private static final LibraryObjects.Fn IS_ELIGIBLE = new LibraryObjects.Fn("isEligible$okhttp", 2);
    private static final LibraryObjects.Fn ACQUIRE = new LibraryObjects.Fn("acquireConnectionNoEvents", 1);
    private static final LibraryObjects.Fn ROUTE = new LibraryObjects.Fn("route", 0);
    private static final LibraryObjects.Fn ADDRESS = new LibraryObjects.Fn("address", 0);
    private static final LibraryObjects.Fn PROXY = new LibraryObjects.Fn("proxy", 0);
    private static final LibraryObjects.Fn URL = new LibraryObjects.Fn("url", 0);
    private static final LibraryObjects.Fn HOST = new LibraryObjects.Fn("host", 0);
    private static final LibraryObjects.Fn PORT = new LibraryObjects.Fn("port", 0);
    private static final LibraryObjects.Fn CLIENT = new LibraryObjects.Fn("getClient", 0);
    private static final LibraryObjects.Fn CONNECT_TIMEOUT = new LibraryObjects.Fn("connectTimeoutMillis", 0);
    private static final LibraryObjects.Fn CALL_TIMEOUT = new LibraryObjects.Fn("callTimeoutMillis", 0);
    private static final LibraryObjects.FieldFn ALLOCATION_LIMIT = new LibraryObjects.FieldFn("allocationLimit");

    /** Key: the call; pooled: the connection. */
    private final PoolKind kind = new PoolKind(OkHttpModule.NAME,
            (call, connection) -> counted(SOCKET.socket(connection)),
            (call, connection) -> {
                // An HTTP/2 connection carries other calls' streams: OkHttp prunes the lost call
                // itself and stops using the connection; closing it would fail the others.
                if (Boolean.TRUE.equals(IS_MULTIPLEXED.call(connection))) {
                    return;
                }
                Socket socket = SOCKET.socket(connection);
                if (socket != null) {
                    socket.close();
                }
            });

    OkHttpPoolAdapter(Governor governor) {
        super(governor);
    }

    @Override
    public Object idle(Object pooled) throws Throwable {
        // The borrow (keyed by the call) ended in releaseConnectionNoEvents already.
        Socket socket = SOCKET.socket(pooled);
        return socket == null ? null : governor.idle(counted(socket), socket, CLOSE_SOCKET);
    }

    @Override
    public boolean taken(Object pooled) throws Throwable {
        return takenOrClosed(SOCKET.socket(pooled));
    }

    @Override
    public void borrowed(Object key, Object pooled, Object handle) throws Throwable {
        governor.borrowed(kind, key, pooled, counted(SOCKET.socket(pooled)), handle, null, true);
    }

    /**
     * OkHttp 4's first {@code callAcquirePooledConnection(address, call, null, false)} of a call
     * found nothing ({@code route}: the pool and the address; {@code detail}: the call), on the
     * call's thread, holding no lock. Not through a configured proxy (the cap of the target is not
     * the one it connects to). A slot is kept for the connect that follows on this thread (OkHttp 4
     * connects on the calling thread); the wait is bounded by the client's connect timeout and its
     * call timeout, whichever is less.
     *
     * @return the connection handed over, now acquired for the call, or null
     */
    @Override
    public Object miss(Object route, Object detail) throws Throwable {
        Object[] a = (Object[]) route;
        Object pool = a[0];
        Object address = a[1];
        Object call = detail;
        if (PROXY.call(address) != null) {
            return null;
        }
        Object url = URL.call(address);
        String host = HOST.string(url);
        int port = PORT.integer(url, -1);
        if (host == null || port < 0) {
            return null;
        }
        Object client = CLIENT.call(call);
        long timeout = positiveMin(CONNECT_TIMEOUT.integer(client, 0), CALL_TIMEOUT.integer(client, 0));
        PoolKey key = new PoolKey(pool, address);
        for (int attempt = 0; attempt < HANDED_ATTEMPTS; attempt++) {
            Object handed = governor.awaitConnection(host, port, key, timeout);
            if (handed == null) {
                return null; // a slot kept for the connect, or a refusal it will throw
            }
            if (acquire(handed, address, call)) {
                return handed;
            }
        }
        return null;
    }

    private static long positiveMin(long a, long b) {
        return a <= 0 ? Math.max(0, b) : b <= 0 ? a : Math.min(a, b);
    }

    /**
     * Takes the connection handed over for {@code call} as {@code callAcquirePooledConnection}
     * does: under the connection's lock, if it is still eligible. This lock is OkHttp's, which its
     * own protocol requires for {@code acquireConnectionNoEvents}; nothing waits while holding it.
     * If the connection was evicted meanwhile (OkHttp's cleanup closed it while it sat in the list),
     * it is not taken, and is idle again as ConnGuard sees it.
     */
    private boolean acquire(Object connection, Object address, Object call) throws Throwable {
        boolean acquired;
        synchronized (connection) {
            setAllocationLimit(connection, HTTP1_ALLOCATION_LIMIT);
            acquired = Boolean.TRUE.equals(IS_ELIGIBLE.call(connection, address, null));
            if (acquired) {
                ACQUIRE.call(call, connection);
            }
        }
        if (!acquired) {
            Object lease = idle(connection);
            if (lease instanceof Lease) {
                governor.returned((Lease) lease);
            }
        }
        return acquired;
    }

    /**
     * {@code RealConnectionPool.connectionBecameIdle(connection)}: the connection lost its last call,
     * under its lock, still in the pool's list, before another call can take it. Not an HTTP/2
     * connection (its calls share it: no call waits for it), nor one that takes no new calls
     * (OkHttp closes it).
     *
     * @return true if it was handed to a waiting call: skip {@code connectionBecameIdle}
     */
    @Override
    public boolean offer(Object pool, Object detail, Object connection) throws Throwable {
        if (Boolean.TRUE.equals(NO_NEW_EXCHANGES.call(connection))
                || Boolean.TRUE.equals(IS_MULTIPLEXED.call(connection))) {
            return false;
        }
        Socket socket = SOCKET.socket(connection);
        Object address = ADDRESS.call(ROUTE.call(connection));
        if (socket == null || address == null || PROXY.call(address) != null) {
            return false;
        }
        HostLine.Offer o = governor.offerIdle(counted(socket), new PoolKey(pool, address), connection);
        if (o == HostLine.Offer.HANDED_OVER) {
            // Reserved for the waiter: OkHttp's isEligible refuses it to every other call until
            // the waiter puts the limit back under this same lock (see acquire).
            setAllocationLimit(connection, 0);
            return true;
        }
        if (o == HostLine.Offer.CLOSE) {
            // connectionBecameIdle then drops it from the pool, and its caller closes its socket:
            // the close hook gives the slot to the head of the line.
            if (SET_NO_NEW_EXCHANGES.get(connection.getClass()) != null) {
                SET_NO_NEW_EXCHANGES.call(connection, Boolean.TRUE);
            } else {
                socket.close();
            }
        }
        return false;
    }

    /** The lookup the miss came from is over (OkHttp 4's {@code ExchangeFinder.findConnection}). */
    @Override
    public Object leaseEnded(Object leased) {
        governor.endAwait();
        return null;
    }

    private static void setAllocationLimit(Object connection, int limit) throws IllegalAccessException {
        Field f = ALLOCATION_LIMIT.get(connection.getClass());
        if (f != null) {
            f.setInt(connection, limit);
        }
    }

    /**
     * One OkHttp pool's connections to one {@code okhttp3.Address}: the {@code RealConnectionPool}
     * (by identity) and the address (by its own equality, which covers everything a connection is
     * shared on). A value object, made per lookup: nothing is kept per pool.
     */
    private static final class PoolKey {
        final Object pool;
        final Object address;

        PoolKey(Object pool, Object address) {
            this.pool = pool;
            this.address = address;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PoolKey && ((PoolKey) o).pool == pool && ((PoolKey) o).address.equals(address);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(pool) * 31 + address.hashCode();
        }
    }
}

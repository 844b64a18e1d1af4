package io.connguard.agent.instrument.http.apache4;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.PoolAdapter;

import java.io.Closeable;
import java.io.IOException;
import java.net.Socket;

/**
 * The Apache HttpClient 4 pool ({@code AbstractConnPool}, relocated copies too): a pooled entry's
 * {@code getConnection().getSocket()} is the counted socket. A borrow is keyed by the entry, with
 * its pool; a leaked one is retired as the pool itself discards a broken entry.
 */
final class Apache4PoolAdapter extends PoolAdapter {

    private static final LibraryObjects.Fn GET_CONNECTION = new LibraryObjects.Fn("getConnection", 0);
    private static final LibraryObjects.Fn GET_SOCKET = new LibraryObjects.Fn("getSocket", 0);
    private static final LibraryObjects.Fn SHUTDOWN = new LibraryObjects.Fn("shutdown", 0);
    private static final LibraryObjects.Release RELEASE = new LibraryObjects.Release();
    private static final LibraryObjects.Fn PROXY_HOST = new LibraryObjects.Fn("getProxyHost", 0);
    private static final LibraryObjects.Fn TARGET_HOST = new LibraryObjects.Fn("getTargetHost", 0);
    private static final LibraryObjects.Fn HOST_NAME = new LibraryObjects.Fn("getHostName", 0);
    private static final LibraryObjects.Fn PORT = new LibraryObjects.Fn("getPort", 0);
    private static final LibraryObjects.Fn SCHEME = new LibraryObjects.Fn("getSchemeName", 0);
    private static final LibraryObjects.Fn STATS = new LibraryObjects.Fn("getStats", 1);
    private static final LibraryObjects.Fn PENDING = new LibraryObjects.Fn("getPending", 0);

    /**
     * Reclaims an idle entry by closing its connection (a {@code Closeable}): the pool drops
     * closed entries when it next looks, and a closed connection handed out anyway is reconnected
     * in place by the client.
     */
    private static final Governor.PooledCloser CLOSE = entry -> {
        Object connection = GET_CONNECTION.call(entry);
        if (connection instanceof Closeable) {
            ((Closeable) connection).close();
        }
    };

    /** Key: the pool entry; pooled: its pool. Retired as the pool itself discards a broken entry. */
    private final PoolKind kind = new PoolKind(Apache4Module.NAME,
            (entry, pool) -> counted(GET_SOCKET.socket(GET_CONNECTION.call(entry))),
            (entry, pool) -> {
                // shutdown(), not close(): close() flushes first and could block the reaper
                // on a peer that stopped reading.
                Object connection = GET_CONNECTION.call(entry);
                if (connection != null && SHUTDOWN.get(connection.getClass()) != null) {
                    SHUTDOWN.call(connection);
                } else {
                    CLOSE.close(entry);
                }
                RELEASE.discard(pool, entry);
            });

    /**
     * The lease of this thread that waits in its pool's queue under ConnGuard's bound: the host, and
     * when it started, or the refusal it gets at once.
     */
    private final ThreadLocal<Object[]> poolWait = new ThreadLocal<>();

    Apache4PoolAdapter(Governor governor) {
        super(governor);
    }

    /**
     * {@code AbstractConnPool.getMax(route)}, asked each time a lease looks for room: for a capped
     * host, at most the cap. The pool then never connects past the cap; a request over it waits in
     * the pool's own queue and is handed the next connection its pool releases (reused, never
     * closed). Several pools to one host may still add up past the cap: their connects wait in the
     * host's line as before. A limit changed over JMX is seen at the next lease or release.
     */
    @Override
    public int routeMax(Object pool, Object route, int max) throws Throwable {
        HostState h = cappedHost(route);
        return h == null ? max : Math.min(max, h.limit());
    }

    /**
     * {@code getPoolEntryBlocking}'s wait, for a capped host: a request finding {@code queueMax}
     * others of its pool waiting is refused at once; otherwise it waits at most the queue timeout,
     * unless the caller's own connection-request timeout is shorter (that one ends in the pool's
     * own exception, as without ConnGuard).
     */
    @Override
    public long leaseTimeout(Object pool, Object route, long timeoutMillis) throws Throwable {
        poolWait.remove();
        HostState h = cappedHost(route);
        if (h == null) {
            return timeoutMillis;
        }
        IOException full = governor.refusedInPool(h, PENDING.integer(STATS.call(pool, route), 0), -1);
        if (full != null) {
            poolWait.set(new Object[] {h, full});
            return -1;
        }
        long queue = Math.max(1, governor.queueTimeoutMillis()); // 0 would mean no end to the pool
        if (timeoutMillis > 0 && timeoutMillis <= queue) {
            return timeoutMillis;
        }
        poolWait.set(new Object[] {h, System.nanoTime()});
        return queue;
    }

    /**
     * The lease whose wait {@link #leaseTimeout} bounded is over; {@code leased} is null if it timed
     * out in the pool's queue or was refused at once.
     */
    @Override
    public Object leaseEnded(Object leased) throws Throwable {
        Object[] wait = poolWait.get();
        if (wait == null) {
            return null;
        }
        poolWait.remove();
        if (leased != null) {
            return null;
        }
        if (wait[1] instanceof IOException) {
            return wait[1];
        }
        return governor.refusedInPool((HostState) wait[0], 0, Math.max(0, System.nanoTime() - (Long) wait[1]));
    }

    /** The host of a direct {@code HttpRoute} if ConnGuard caps it, else null (a proxied route is left alone). */
    private HostState cappedHost(Object route) throws Throwable {
        if (PROXY_HOST.call(route) != null) {
            return null;
        }
        Object target = TARGET_HOST.call(route);
        String host = HOST_NAME.string(target);
        if (host == null) {
            return null;
        }
        int port = PORT.integer(target, -1);
        if (port < 0) {
            port = "https".equalsIgnoreCase(SCHEME.string(target)) ? 443 : 80;
        }
        HostState h = governor.host(host, port);
        return h.limit() > 0 ? h : null;
    }

    @Override
    public Object idle(Object pooled) throws Throwable {
        governor.returnedToPool(pooled);
        Socket socket = GET_SOCKET.socket(GET_CONNECTION.call(pooled));
        return socket == null ? null : governor.idle(counted(socket), pooled, CLOSE);
    }

    @Override
    public boolean taken(Object pooled) throws Throwable {
        return takenOrClosed(GET_SOCKET.socket(GET_CONNECTION.call(pooled)));
    }

    @Override
    public void borrowed(Object key, Object pooled, Object handle) throws Throwable {
        governor.borrowed(kind, key, pooled, counted(GET_SOCKET.socket(GET_CONNECTION.call(key))), null, null, true);
    }
}

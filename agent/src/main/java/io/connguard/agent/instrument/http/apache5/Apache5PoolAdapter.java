package io.connguard.agent.instrument.http.apache5;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.PoolAdapter;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.net.Socket;
import java.nio.channels.SocketChannel;

/**
 * The Apache HttpClient 5 pools ({@code StrictConnPool}, {@code LaxConnPool}): a pooled entry's
 * counted connection is the socket of its classic connection or the channel of its async one.
 * A borrow is keyed by the entry, with the pool the thread was leasing from.
 */
final class Apache5PoolAdapter extends PoolAdapter {

    private static final LibraryObjects.Fn GET_CONNECTION = new LibraryObjects.Fn("getConnection", 0);
    private static final LibraryObjects.Fn GET_SOCKET = new LibraryObjects.Fn("getSocket", 0);
    private static final LibraryObjects.FieldFn IO_SESSION = new LibraryObjects.FieldFn("ioSession");
    private static final LibraryObjects.Fn CHANNEL = new LibraryObjects.Fn("channel", 0);
    private static final LibraryObjects.Release RELEASE = new LibraryObjects.Release();
    private static final LibraryObjects.Fn PROXY_HOST = new LibraryObjects.Fn("getProxyHost", 0);
    private static final LibraryObjects.Fn TARGET_HOST = new LibraryObjects.Fn("getTargetHost", 0);
    private static final LibraryObjects.Fn HOST_NAME = new LibraryObjects.Fn("getHostName", 0);
    private static final LibraryObjects.Fn PORT = new LibraryObjects.Fn("getPort", 0);
    private static final LibraryObjects.Fn SCHEME = new LibraryObjects.Fn("getSchemeName", 0);
    private static final LibraryObjects.Fn STATS = new LibraryObjects.Fn("getStats", 1);
    private static final LibraryObjects.Fn PENDING = new LibraryObjects.Fn("getPending", 0);
    private static final LibraryObjects.Fn CANCEL = new LibraryObjects.Fn("cancel", 1);
    private static final LibraryObjects.Fn IS_DONE = new LibraryObjects.Fn("isDone", 0);
    private static final LibraryObjects.Fn GET = new LibraryObjects.Fn("get", 0);
    /**
     * The classic client's pool: {@code StrictConnPool} subclassed inside
     * {@code org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager} (5.0 to 5.5), whose
     * leases a thread waits for; the async manager's (in {@code impl.nio}) is left alone.
     */
    private static final ClassValue<Boolean> CLASSIC = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return type.getName().contains(".impl.io.PoolingHttpClientConnectionManager$")
                    && type.getSuperclass() != null && type.getSuperclass().getSimpleName().equals("StrictConnPool");
        }
    };
    private static final LibraryObjects.WithEnum DISCARD_CONNECTION =
            new LibraryObjects.WithEnum("discardConnection", "IMMEDIATE");

    /**
     * Reclaims an idle entry with {@code discardConnection(IMMEDIATE)}: the entry stays in the
     * pool without a connection, and the client opens a new one when it gets it (closing the
     * connection alone would leave a connection object that refuses to rebind).
     */
    private static final Governor.PooledCloser DISCARD = DISCARD_CONNECTION::call;

    private final PoolKind kind = new PoolKind(Apache5Module.NAME,
            (entry, pool) -> countedOf(entry),
            (entry, pool) -> {
                DISCARD_CONNECTION.call(entry);
                RELEASE.discard(pool, entry);
            });
    /** The pool the current thread is leasing from (classic clients lease and wrap on one thread). */
    private final ThreadLocal<WeakReference<Object>> leasingPool = new ThreadLocal<>();

    /**
     * The classic lease of this thread that waits in its pool's queue under ConnGuard's bound: its
     * future, host, start, then the refusal it gets at once or whether the caller's own timeout is
     * the shorter; [4] is set while the future's {@code get} runs.
     */
    private final ThreadLocal<Object[]> poolWait = new ThreadLocal<>();

    Apache5PoolAdapter(Governor governor) {
        super(governor);
    }

    /**
     * {@code StrictConnPool.getMax(route)} of the classic client's pool, asked each time a lease
     * looks for room: for a capped host, at most the cap. The pool then never connects past the
     * cap; a request over it waits in the pool's own queue and gets the next connection released
     * (reused). Several pools to one host may still add up past it: their connects wait in the
     * host's line. {@code LaxConnPool} (per-route limits without a route argument) is not clamped.
     */
    @Override
    public int routeMax(Object pool, Object route, int max) throws Throwable {
        if (pool == null || !CLASSIC.get(pool.getClass())) {
            return max;
        }
        HostState h = cappedHost(route);
        return h == null ? max : Math.min(max, h.limit());
    }

    /**
     * Two calls. With a {@code route}: the classic pool's {@code lease(route, ...)} returned
     * {@code waitOn}, its future; for a capped host the lease is watched (refused at once if
     * {@code queueMax} others of the pool wait). Without: the future's {@code get} is about to wait
     * {@code timeoutMillis}: for the watched lease, at most what is left of the queue timeout,
     * unless the caller's own is shorter (then its own {@code TimeoutException}, as without us).
     */
    @Override
    public long leaseTimeout(Object waitOn, Object route, long timeoutMillis) throws Throwable {
        Object[] wait = poolWait.get();
        if (route == null) {
            if (wait == null || wait[0] != waitOn) {
                return timeoutMillis;
            }
            wait[4] = Boolean.TRUE;
            if (wait[3] instanceof IOException) {
                return -1;
            }
            long left = Math.max(1, governor.queueTimeoutMillis() - (System.nanoTime() - (Long) wait[2]) / 1_000_000L);
            if (timeoutMillis > 0 && timeoutMillis <= left) {
                wait[3] = Boolean.TRUE; // the caller's own bound
                return timeoutMillis;
            }
            return left;
        }
        poolWait.remove();
        WeakReference<Object> ref = leasingPool.get();
        Object pool = ref == null ? null : ref.get();
        if (pool == null || !CLASSIC.get(pool.getClass()) || waitOn == null
                || Boolean.TRUE.equals(IS_DONE.call(waitOn))) {
            return timeoutMillis; // not a pool we clamp, or leased at once
        }
        HostState h = cappedHost(route);
        if (h == null) {
            return timeoutMillis;
        }
        // This lease, if it waits, is one of the pending ones already.
        IOException full = governor.refusedInPool(h, PENDING.integer(STATS.call(pool, route), 1) - 1, -1);
        poolWait.set(new Object[] {waitOn, h, System.nanoTime(), full, null});
        return timeoutMillis;
    }

    /**
     * The watched lease's {@code get} is over; {@code leased} is null if it timed out at
     * ConnGuard's bound or was refused at once: then the lease is cancelled (the pool drops it) and
     * the caller gets the refusal, or, if the pool completed it meanwhile, its entry (to return
     * from {@code get} instead: dropping it would leak it).
     */
    @Override
    public Object leaseEnded(Object leased) throws Throwable {
        Object[] wait = poolWait.get();
        if (wait == null || wait[4] == null) {
            return null;
        }
        poolWait.remove();
        if (leased != null || wait[3] == Boolean.TRUE) {
            return null;
        }
        if (!Boolean.TRUE.equals(CANCEL.call(wait[0], Boolean.TRUE))) {
            return GET.call(wait[0]);
        }
        if (wait[3] instanceof IOException) {
            return wait[3];
        }
        return governor.refusedInPool((HostState) wait[1], 0, Math.max(0, System.nanoTime() - (Long) wait[2]));
    }

    /** The host of a direct {@code HttpRoute} if ConnGuard caps it, else null (a proxied route is left alone). */
    private HostState cappedHost(Object route) throws Throwable {
        if (route == null || PROXY_HOST.call(route) != null) {
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
        Object counted = countedOf(pooled);
        return counted == null ? null : governor.idle(counted, pooled, DISCARD);
    }

    @Override
    public boolean taken(Object pooled) throws Throwable {
        Object counted = countedOf(pooled);
        if (counted instanceof SocketChannel) {
            SocketChannel channel = (SocketChannel) counted;
            if (!governor.taken(channel, !channel.isOpen())) {
                governor.awaitReleased(channel, RECLAIM_WAIT_MILLIS);
            }
            return true;
        }
        return takenOrClosed(counted == null ? null : (Socket) counted);
    }

    @Override
    public void borrowed(Object key, Object pooled, Object handle) throws Throwable {
        WeakReference<Object> ref = leasingPool.get();
        Object leasedFrom = ref == null ? null : ref.get();
        if (ref != null) {
            leasingPool.remove();
        }
        governor.borrowed(kind, key, leasedFrom, countedOf(key), handle, null, true);
    }

    @Override
    public void leasing(Object pool) {
        // Weak: a lease that never reaches the endpoint (timeout, async) must not pin the pool.
        leasingPool.set(new WeakReference<>(pool));
    }

    /**
     * The socket of an entry's classic connection, or the channel of its async one
     * ({@code DefaultManagedAsyncClientConnection.ioSession.channel()}, a {@code SocketChannel}).
     */
    private static Object countedOf(Object entry) throws Exception {
        Object connection = GET_CONNECTION.call(entry);
        if (connection == null) {
            return null;
        }
        Socket socket = GET_SOCKET.socket(connection);
        if (socket != null) {
            return counted(socket);
        }
        Object channel = CHANNEL.call(IO_SESSION.read(connection));
        return channel instanceof SocketChannel ? channel : null;
    }
}

package io.connguard.agent;

import java.io.IOException;
import java.io.UncheckedIOException;

import io.connguard.agent.config.LogLevel;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.Lease;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.jdk.JdkPoolConnections;
import io.connguard.agent.instrument.socket.ChannelDescriptors;
import io.connguard.agent.log.AgentLog;
import io.connguard.bootstrap.ConnGuardHooks;
import io.connguard.bootstrap.HookHandler;

import io.connguard.agent.fleet.redis.AgentSocket;
import java.io.Closeable;
import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;

/**
 * The agent's {@link HookHandler}: turns what the rewritten code reports into calls on the
 * {@link Governor}. No policy here, only translation: addresses to host keys, pool objects to the
 * socket or channel they hold.
 */
final class HookBridge extends HookHandler {

    /** Reclaims an {@code HttpURLConnection} keep-alive socket (TLS or plain) by closing it. */
    private static final Governor.PooledCloser CLOSE_SOCKET = pooled -> ((Socket) pooled).close();
    /**
     * Reclaims a {@code java.net.http.HttpClient} pooled connection through its own
     * {@code HttpConnection.close()}, so the client forgets it too (closing only the channel would
     * leave it in the client's set of open connections for good).
     */
    private static final Governor.PooledCloser CLOSE_HTTP_CONNECTION = JdkPoolConnections::closeHttpConnection;

    private static final LibraryObjects.NoArg GET_CONNECTION = new LibraryObjects.NoArg("getConnection");
    private static final LibraryObjects.NoArg GET_SOCKET = new LibraryObjects.NoArg("getSocket");
    private static final LibraryObjects.NoArg SOCKET = new LibraryObjects.NoArg("socket");
    private static final LibraryObjects.NoArg IS_MULTIPLEXED = new LibraryObjects.NoArg("isMultiplexed$okhttp");
    private static final LibraryObjects.NoArg SHUTDOWN = new LibraryObjects.NoArg("shutdown");
    private static final LibraryObjects.FieldOf IO_SESSION = new LibraryObjects.FieldOf("ioSession");
    private static final LibraryObjects.NoArg CHANNEL = new LibraryObjects.NoArg("channel");
    private static final LibraryObjects.Release RELEASE = new LibraryObjects.Release();
    private static final LibraryObjects.WithEnum DISCARD_CONNECTION =
            new LibraryObjects.WithEnum("discardConnection", "IMMEDIATE");

    /**
     * Reclaims an idle Apache HttpClient 4 entry by closing its connection (a {@code Closeable}):
     * the pool drops closed entries when it next looks, and a closed connection handed out anyway
     * is reconnected in place by the client.
     */
    private static final Governor.PooledCloser CLOSE_APACHE4 = entry -> {
        Object connection = GET_CONNECTION.call(entry);
        if (connection instanceof Closeable) {
            ((Closeable) connection).close();
        }
    };
    /**
     * Reclaims an idle Apache HttpClient 5 entry with {@code discardConnection(IMMEDIATE)}: the
     * entry stays in the pool without a connection, and the client opens a new one when it gets
     * it (closing the connection alone would leave a connection object that refuses to rebind).
     */
    private static final Governor.PooledCloser DISCARD_APACHE5 = DISCARD_CONNECTION::call;

    private static final PoolKind URLCONNECTION = new PoolKind("HttpURLConnection",
            (key, pooled) -> key == null ? null : counted(JdkPoolConnections.urlConnectionSocket(key)), null);
    private static final PoolKind HTTPCLIENT = new PoolKind("java.net.http.HttpClient",
            (key, pooled) -> key == null ? null : JdkPoolConnections.httpClientChannel(key), null);
    /** Key: the pool entry; pooled: its pool. Retired as the pool itself discards a broken entry. */
    private static final PoolKind APACHE4 = new PoolKind("Apache HttpClient 4",
            (entry, pool) -> counted(GET_SOCKET.socket(GET_CONNECTION.call(entry))),
            (entry, pool) -> {
                // shutdown(), not close(): close() flushes first and could block the reaper
                // on a peer that stopped reading.
                Object connection = GET_CONNECTION.call(entry);
                if (connection != null && SHUTDOWN.get(connection.getClass()) != null) {
                    SHUTDOWN.call(connection);
                } else {
                    CLOSE_APACHE4.close(entry);
                }
                RELEASE.discard(pool, entry);
            });
    private static final PoolKind APACHE5 = new PoolKind("Apache HttpClient 5",
            (entry, pool) -> apache5Counted(entry),
            (entry, pool) -> {
                DISCARD_CONNECTION.call(entry);
                RELEASE.discard(pool, entry);
            });
    /** Key: the call; pooled: the connection. OkHttp prunes a connection whose call was lost. */
    private static final PoolKind OKHTTP = new PoolKind("OkHttp",
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

    /** How long a pool handing out a connection that is being reclaimed waits for the close to end. */
    private static final long RECLAIM_WAIT_MILLIS = 500;

    private final Governor governor;
    private final boolean activity;
    private final CallSites sites = new CallSites();
    /** The Apache HttpClient 5 pool the current thread is leasing from (classic clients lease and wrap on one thread). */
    private final ThreadLocal<WeakReference<Object>> leasingPool = new ThreadLocal<>();

    private final io.connguard.agent.retry.Retries retries;

    HookBridge(Governor governor, io.connguard.agent.retry.Retries retries) {
        this.governor = governor;
        this.retries = retries;
        this.activity = governor.tracksActivity();
    }

    @Override
    public Object beforeConnect(Object connection, SocketAddress endpoint, long timeoutMillis, boolean blocking) {
        if (!(endpoint instanceof InetSocketAddress) || connection instanceof AgentSocket) {
            // Unix domain sockets and foreign address types are not governed, nor the agent's own
            // connection to its fleet store (a fleet cap on it would wait for the store itself).
            return null;
        }
        InetSocketAddress address = (InetSocketAddress) endpoint;
        Closeable residue = null;
        if (connection instanceof SocketChannel) {
            try {
                residue = ChannelDescriptors.residue(connection);
            } catch (Throwable t) {
                AgentLog.once(LogLevel.DEBUG, "channel-fd", "connguard: cannot see a SocketChannel's descriptor;"
                        + " one dropped without close() keeps it open: " + t, null);
            }
        }
        return governor.beforeConnect(connection, address.getHostString(), address.getPort(), timeoutMillis,
                blocking, residue);
    }

    @Override
    public void connectFailed(Object connection) {
        governor.connectFailed(connection);
    }

    @Override
    public void closed(Object connection) {
        if (isFinalizer(Thread.currentThread())) {
            governor.closedByFinalizer(connection);
            return;
        }
        governor.closed(connection);
    }

    @Override
    public Object pooledIdle(int pool, Object pooled) {
        try {
            switch (pool) {
                case ConnGuardHooks.POOL_JDK_URLCONNECTION: {
                    governor.returnedToPool(pooled);
                    Socket socket = JdkPoolConnections.urlConnectionSocket(pooled);
                    return socket == null ? null : governor.idle(counted(socket), socket, CLOSE_SOCKET);
                }
                case ConnGuardHooks.POOL_JDK_HTTPCLIENT:
                    governor.returnedToPool(pooled);
                    return governor.idle(JdkPoolConnections.httpClientChannel(pooled), pooled, CLOSE_HTTP_CONNECTION);
                case ConnGuardHooks.POOL_APACHE4: {
                    governor.returnedToPool(pooled);
                    Socket socket = GET_SOCKET.socket(GET_CONNECTION.call(pooled));
                    return socket == null ? null : governor.idle(counted(socket), pooled, CLOSE_APACHE4);
                }
                case ConnGuardHooks.POOL_APACHE5: {
                    governor.returnedToPool(pooled);
                    Object counted = apache5Counted(pooled);
                    return counted == null ? null : governor.idle(counted, pooled, DISCARD_APACHE5);
                }
                case ConnGuardHooks.POOL_OKHTTP: {
                    // The borrow (keyed by the call) ended in releaseConnectionNoEvents already.
                    Socket socket = SOCKET.socket(pooled);
                    return socket == null ? null : governor.idle(counted(socket), socket, CLOSE_SOCKET);
                }
                default:
                    return null;
            }
        } catch (Throwable t) {
            cannotSeeInside(pool, pooled, t);
            return null;
        }
    }

    @Override
    public void pooledReturned(Object token) {
        if (token instanceof Lease) {
            governor.returned((Lease) token);
        }
    }

    @Override
    public boolean pooledTaken(int pool, Object pooled) {
        try {
            switch (pool) {
                case ConnGuardHooks.POOL_JDK_URLCONNECTION: {
                    Socket socket = JdkPoolConnections.urlConnectionSocket(pooled);
                    // A cached client whose socket is gone was closed: never hand it out.
                    return socket != null && governor.taken(counted(socket), socket.isClosed());
                }
                case ConnGuardHooks.POOL_JDK_HTTPCLIENT: {
                    SocketChannel channel = JdkPoolConnections.httpClientChannel(pooled);
                    return channel == null || governor.taken(channel, !channel.isOpen());
                }
                case ConnGuardHooks.POOL_APACHE4:
                    return takenOrClosed(GET_SOCKET.socket(GET_CONNECTION.call(pooled)));
                case ConnGuardHooks.POOL_APACHE5: {
                    Object counted = apache5Counted(pooled);
                    if (counted instanceof SocketChannel) {
                        SocketChannel channel = (SocketChannel) counted;
                        if (!governor.taken(channel, !channel.isOpen())) {
                            governor.awaitReleased(channel, RECLAIM_WAIT_MILLIS);
                        }
                        return true;
                    }
                    return takenOrClosed(counted == null ? null : (Socket) counted);
                }
                case ConnGuardHooks.POOL_OKHTTP:
                    return takenOrClosed(SOCKET.socket(pooled));
                default:
                    return true;
            }
        } catch (Throwable t) {
            cannotSeeInside(pool, pooled, t);
            return true;
        }
    }

    /**
     * These pools cannot be told "nothing to hand out" at the point we see the hand-out, but they
     * all check whether what they got is still open and reconnect or skip it if not. So when a
     * reclaim won the race for this connection, wait (bounded) until its close has finished:
     * then the client's own check sees it closed.
     */
    private boolean takenOrClosed(Socket socket) throws ReflectiveOperationException {
        if (socket == null) {
            return true; // a new entry, not connected yet
        }
        Socket counted = counted(socket);
        if (!governor.taken(counted, socket.isClosed())) {
            governor.awaitReleased(counted, RECLAIM_WAIT_MILLIS);
        }
        return true;
    }

    @Override
    public void pooledBorrowed(int pool, Object key, Object pooled, Object handle) {
        try {
            switch (pool) {
                case ConnGuardHooks.POOL_JDK_URLCONNECTION:
                    governor.borrowed(URLCONNECTION, key, null,
                            counted(JdkPoolConnections.urlConnectionSocket(key)), null, null, true);
                    return;
                case ConnGuardHooks.POOL_JDK_HTTPCLIENT: {
                    // On the client's executor: the stack worth showing was taken in send().
                    Throwable site = handle == null ? null : sites.take(JdkPoolConnections.multiExchange(handle));
                    governor.borrowed(HTTPCLIENT, key, null, JdkPoolConnections.httpClientChannel(key), null, site,
                            false);
                    return;
                }
                case ConnGuardHooks.POOL_APACHE4:
                    governor.borrowed(APACHE4, key, pooled, counted(GET_SOCKET.socket(GET_CONNECTION.call(key))),
                            null, null, true);
                    return;
                case ConnGuardHooks.POOL_APACHE5: {
                    WeakReference<Object> ref = leasingPool.get();
                    Object leasedFrom = ref == null ? null : ref.get();
                    if (ref != null) {
                        leasingPool.remove();
                    }
                    governor.borrowed(APACHE5, key, leasedFrom, apache5Counted(key), handle, null, true);
                    return;
                }
                case ConnGuardHooks.POOL_OKHTTP:
                    governor.borrowed(OKHTTP, key, pooled, counted(SOCKET.socket(pooled)), handle, null, true);
                    return;
                default:
            }
        } catch (Throwable t) {
            cannotSeeInside(pool, key, t);
        }
    }

    @Override
    public void pooledHandle(int pool, Object key, Object handle) {
        governor.attachHandle(key, handle);
    }

    @Override
    public void pooledReleased(int pool, Object key) {
        governor.returnedToPool(key);
    }

    @Override
    public void requestStarted(int pool, Object request) {
        Throwable site = governor.captureSite();
        if (site != null) {
            sites.put(request, site);
        }
    }

    @Override
    public void poolLeasing(int pool, Object poolObject) {
        // Weak: a lease that never reaches the endpoint (timeout, async) must not pin the pool.
        leasingPool.set(new WeakReference<>(poolObject));
    }

    @Override
    public void activity(Object connection) {
        if (activity) {
            governor.activity(connection);
        }
    }

    /**
     * The socket of an Apache HttpClient 5 entry's classic connection, or the channel of its async
     * one ({@code DefaultManagedAsyncClientConnection.ioSession.channel()}, a {@code SocketChannel}).
     */
    private static Object apache5Counted(Object entry) throws ReflectiveOperationException {
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

    /** The JVM's finalizer thread ({@code java.lang.ref.Finalizer$FinalizerThread}, JDK 17 and 25). */
    private static boolean isFinalizer(Thread t) {
        return t.isDaemon() && "Finalizer".equals(t.getName()) && t.getClass().getName().startsWith("java.lang.ref.");
    }

    /**
     * What the slot was counted on: for a TLS socket layered over a plain one, the plain one. The
     * pooled socket itself stays the handle to close on reclaim, so a TLS connection is closed
     * as TLS (close_notify, then the socket under it).
     */
    private static Socket counted(Socket socket) throws ReflectiveOperationException {
        return socket == null ? null : JdkPoolConnections.countedSocket(socket);
    }

    private static void cannotSeeInside(int pool, Object pooled, Throwable t) {
        AgentLog.once(LogLevel.WARN, "pool:" + pool, "connguard: cannot see inside a connection pool ("
                + (pooled == null ? "null" : pooled.getClass().getName()) + "), so its idle connections are not"
                + " reclaimed and its leaks not reported: " + t, null);
    }

    // Retries: all in the retry package; checked exceptions of the client's objects become
    // internal errors (the hook door reports them and lets the client's own result through).

    @Override
    public Object retryStart(int client, Object request, Object target) {
        try {
            return retries.retryStart(client, request, target);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public boolean retryResponse(Object call, Object response, Throwable thrown) {
        try {
            return retries.retryResponse(call, response, thrown);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void retryEnd(Object call) {
        retries.retryEnd(call);
    }

    @Override
    public Object retryFollowUp(int client, Object response, Object followUp) {
        try {
            return retries.retryFollowUp(client, response, followUp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Object connectRetryStart(int client, Object target, int port, Object connectTimeout) {
        try {
            return retries.connectRetryStart(client, target, port, connectTimeout);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public boolean connectRetry(Object call, Throwable thrown) {
        return retries.connectRetry(call, thrown);
    }

    @Override
    public Object retryHandler(Object client, Object request, Object handler, Object pushPromiseHandler) {
        return retries.retryHandler(client, request, handler, pushPromiseHandler);
    }

    @Override
    public Object retryResult(Object handler, Object future) {
        return retries.retryResult(handler, future);
    }

    @Override
    public boolean retryUrlConnection(Object call, Object connection, int status, Object responses, Object input,
                                      Object error, boolean credentials, Throwable thrown) {
        try {
            return retries.retryUrlConnection(call, connection, status, responses, input, error, credentials, thrown);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void internalError(String where, Throwable error) {
        AgentLog.once(LogLevel.WARN, "internal:" + where + ":" + error.getClass().getName(),
                "connguard: internal error in " + where + "; the connection proceeds ungoverned"
                        + " (reported once): " + error, error);
    }
}

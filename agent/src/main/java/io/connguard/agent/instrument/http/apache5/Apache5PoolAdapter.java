package io.connguard.agent.instrument.http.apache5;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.PoolAdapter;

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

    Apache5PoolAdapter(Governor governor) {
        super(governor);
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

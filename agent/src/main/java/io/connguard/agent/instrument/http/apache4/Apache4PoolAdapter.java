package io.connguard.agent.instrument.http.apache4;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.PoolAdapter;

import java.io.Closeable;
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

    Apache4PoolAdapter(Governor governor) {
        super(governor);
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

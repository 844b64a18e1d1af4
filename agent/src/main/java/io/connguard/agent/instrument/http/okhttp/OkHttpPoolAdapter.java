package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.PoolAdapter;

import java.net.Socket;

/**
 * The OkHttp pool ({@code RealConnectionPool}, 3.14 to 5): a {@code RealConnection}'s
 * {@code socket()} is the counted socket. A borrow is keyed by the call, with its connection;
 * OkHttp prunes a connection whose call was lost.
 */
final class OkHttpPoolAdapter extends PoolAdapter {

    /** Reclaims an idle connection by closing its socket; OkHttp drops it when it next looks. */
    private static final Governor.PooledCloser CLOSE_SOCKET = pooled -> ((Socket) pooled).close();

    private static final LibraryObjects.Fn SOCKET = new LibraryObjects.Fn("socket", 0);
    private static final LibraryObjects.Fn IS_MULTIPLEXED = new LibraryObjects.Fn("isMultiplexed$okhttp", 0);

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
}

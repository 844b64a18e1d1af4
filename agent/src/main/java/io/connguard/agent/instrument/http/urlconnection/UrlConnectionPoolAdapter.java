package io.connguard.agent.instrument.http.urlconnection;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.PoolAdapter;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Socket;

/**
 * The {@code HttpURLConnection} keep-alive cache: its pooled objects are
 * {@code sun.net.www.http.HttpClient}s, whose socket is {@code sun.net.NetworkClient.serverSocket}
 * (a non-exported package of {@code java.base}, opened to the agent at start-up; the handle is
 * looked up on first use, never in premain).
 */
final class UrlConnectionPoolAdapter extends PoolAdapter {

    /** Reclaims a keep-alive socket (TLS or plain) by closing it. */
    private static final Governor.PooledCloser CLOSE_SOCKET = pooled -> ((Socket) pooled).close();

    private static volatile VarHandle serverSocket;

    private final PoolKind kind = new PoolKind(UrlConnectionModule.NAME,
            (key, pooled) -> key == null ? null : counted(socket(key)), null);

    UrlConnectionPoolAdapter(Governor governor) {
        super(governor);
    }

    @Override
    public Object idle(Object pooled) throws Throwable {
        governor.returnedToPool(pooled);
        Socket socket = socket(pooled);
        return socket == null ? null : governor.idle(counted(socket), socket, CLOSE_SOCKET);
    }

    @Override
    public boolean taken(Object pooled) throws Throwable {
        Socket socket = socket(pooled);
        // A cached client whose socket is gone was closed: never hand it out.
        return socket != null && governor.taken(counted(socket), socket.isClosed());
    }

    @Override
    public void borrowed(Object key, Object pooled, Object handle) throws Throwable {
        governor.borrowed(kind, key, null, counted(socket(key)), null, null, true);
    }

    /** {@code sun.net.NetworkClient.serverSocket} of a {@code sun.net.www.http.HttpClient}. */
    private static Socket socket(Object httpClient) throws ReflectiveOperationException {
        VarHandle h = serverSocket;
        if (h == null) {
            Class<?> networkClient = LibraryObjects.superclassNamed(httpClient.getClass(), "sun.net.NetworkClient");
            h = MethodHandles.privateLookupIn(networkClient, MethodHandles.lookup())
                    .findVarHandle(networkClient, "serverSocket", Socket.class);
            serverSocket = h;
        }
        return (Socket) h.get(httpClient);
    }
}

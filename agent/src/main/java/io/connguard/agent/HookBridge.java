package io.connguard.agent;

import io.connguard.agent.config.LogLevel;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.Lease;
import io.connguard.agent.instrument.http.jdk.JdkPoolConnections;
import io.connguard.agent.log.AgentLog;
import io.connguard.bootstrap.ConnGuardHooks;
import io.connguard.bootstrap.HookHandler;

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

    private final Governor governor;

    HookBridge(Governor governor) {
        this.governor = governor;
    }

    @Override
    public Object beforeConnect(Object connection, SocketAddress endpoint, long timeoutMillis, boolean blocking) {
        if (!(endpoint instanceof InetSocketAddress)) {
            return null; // Unix domain sockets and foreign address types are not governed
        }
        InetSocketAddress address = (InetSocketAddress) endpoint;
        return governor.beforeConnect(connection, address.getHostString(), address.getPort(), timeoutMillis,
                blocking);
    }

    @Override
    public void connectFailed(Object connection) {
        governor.connectFailed(connection);
    }

    @Override
    public void closed(Object connection) {
        governor.closed(connection);
    }

    @Override
    public Object pooledIdle(int pool, Object pooled) {
        try {
            switch (pool) {
                case ConnGuardHooks.POOL_JDK_URLCONNECTION: {
                    Socket socket = JdkPoolConnections.urlConnectionSocket(pooled);
                    return socket == null ? null : governor.idle(counted(socket), socket, CLOSE_SOCKET);
                }
                case ConnGuardHooks.POOL_JDK_HTTPCLIENT:
                    return governor.idle(JdkPoolConnections.httpClientChannel(pooled), pooled, CLOSE_HTTP_CONNECTION);
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
                default:
                    return true;
            }
        } catch (Throwable t) {
            cannotSeeInside(pool, pooled, t);
            return true;
        }
    }

    /**
     * What the slot was counted on: for a TLS socket layered over a plain one, the plain one. The
     * pooled socket itself stays the handle to close on reclaim, so a TLS connection is closed
     * as TLS (close_notify, then the socket under it).
     */
    private static Object counted(Socket socket) throws ReflectiveOperationException {
        return JdkPoolConnections.countedSocket(socket);
    }

    private static void cannotSeeInside(int pool, Object pooled, Throwable t) {
        AgentLog.once(LogLevel.WARN, "pool:" + pool, "connguard: cannot see inside the JDK connection pool ("
                + pooled.getClass().getName() + "), so its idle connections are not reclaimed: " + t, null);
    }

    @Override
    public void internalError(String where, Throwable error) {
        AgentLog.once(LogLevel.WARN, "internal:" + where + ":" + error.getClass().getName(),
                "connguard: internal error in " + where + "; the connection proceeds ungoverned"
                        + " (reported once): " + error, error);
    }
}

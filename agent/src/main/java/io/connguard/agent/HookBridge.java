package io.connguard.agent;

import io.connguard.agent.config.LogLevel;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.Lease;
import io.connguard.agent.instrument.http.jdk.JdkPoolConnections;
import io.connguard.agent.log.AgentLog;
import io.connguard.bootstrap.ConnGuardHooks;
import io.connguard.bootstrap.HookHandler;

import java.io.Closeable;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.Channel;

/**
 * The agent's {@link HookHandler}: turns what the rewritten code reports into calls on the
 * {@link Governor}. No policy here, only translation: addresses to host keys, pool objects to the
 * socket or channel they hold.
 */
final class HookBridge extends HookHandler {

    /**
     * The thread class of {@code java.net.http.HttpClient}'s selector loop (JDK 11 to 25). It runs
     * {@code finishConnect} and completes futures; when a dependent stage starts a new exchange on
     * it, {@code PlainHttpConnection.connectAsync} calls {@code SocketChannel.connect} there.
     */
    private static final String JDK_HTTPCLIENT_SELECTOR = "jdk.internal.net.http.HttpClientImpl$SelectorManager";

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
                !isEventLoop(Thread.currentThread()));
    }

    /**
     * A connect on an event-loop thread must never wait: the loop serves every other connection of
     * its client, including the ones whose close would free the slot we would wait for.
     */
    static boolean isEventLoop(Thread thread) {
        return thread.getClass().getName().equals(JDK_HTTPCLIENT_SELECTOR);
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
        Closeable connection = connectionOf(pool, pooled);
        return connection == null ? null : governor.idle(counted(connection), connection);
    }

    @Override
    public void pooledReturned(Object token) {
        if (token instanceof Lease) {
            governor.returned((Lease) token);
        }
    }

    @Override
    public boolean pooledTaken(int pool, Object pooled) {
        Closeable connection = connectionOf(pool, pooled);
        if (connection == null) {
            return true;
        }
        boolean closed = connection instanceof Socket ? ((Socket) connection).isClosed()
                : !((Channel) connection).isOpen();
        return governor.taken(counted(connection), closed);
    }

    /**
     * What the slot was counted on: for a TLS socket layered over a plain one, the plain one. The
     * pooled object itself stays the handle to close on reclaim, so a TLS connection is closed
     * as TLS (close_notify, then the socket under it).
     */
    private static Object counted(Closeable connection) {
        if (connection instanceof Socket) {
            try {
                return JdkPoolConnections.countedSocket((Socket) connection);
            } catch (Throwable t) {
                AgentLog.once(LogLevel.WARN, "ssl-self", "connguard: cannot find the socket under a TLS socket, so idle"
                        + " HTTPS keep-alive connections of HttpURLConnection are not reclaimed: " + t, null);
            }
        }
        return connection;
    }

    private static Closeable connectionOf(int pool, Object pooled) {
        try {
            switch (pool) {
                case ConnGuardHooks.POOL_JDK_URLCONNECTION:
                    return JdkPoolConnections.urlConnectionSocket(pooled);
                case ConnGuardHooks.POOL_JDK_HTTPCLIENT:
                    return JdkPoolConnections.httpClientChannel(pooled);
                default:
                    return null;
            }
        } catch (Throwable t) {
            AgentLog.once(LogLevel.WARN, "pool:" + pool, "connguard: cannot see inside the JDK connection pool ("
                    + pooled.getClass().getName() + "), so its idle connections are not reclaimed: " + t, null);
            return null;
        }
    }

    @Override
    public void internalError(String where, Throwable error) {
        AgentLog.once(LogLevel.WARN, "internal:" + where + ":" + error.getClass().getName(),
                "connguard: internal error in " + where + "; the connection proceeds ungoverned"
                        + " (reported once): " + error, error);
    }
}

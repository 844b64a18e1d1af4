package io.connguard.agent;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.util.List;

import io.connguard.agent.config.LogLevel;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.Lease;
import io.connguard.agent.fleet.redis.AgentSocket;
import io.connguard.agent.instrument.http.CallSites;
import io.connguard.agent.instrument.http.ClientModule;
import io.connguard.agent.instrument.http.Clients;
import io.connguard.agent.instrument.http.PoolAdapter;
import io.connguard.agent.instrument.socket.ChannelDescriptors;
import io.connguard.agent.instrument.socket.GracefulClose;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;
import io.connguard.agent.retry.Retries;
import io.connguard.bootstrap.HookHandler;

/**
 * The agent's {@link HookHandler}: turns what the rewritten code reports into calls on the
 * {@link Governor}. No policy here, only translation: addresses to host keys, and a client's
 * pool and retry hooks, by the client id they carry, to that client's {@link PoolAdapter} and
 * retry glue (in its folder, {@code instrument/http/<client>/}).
 */
final class HookBridge extends HookHandler {

    private final Governor governor;
    private final boolean activity;
    private final CallSites sites = new CallSites();
    /** Each client's pool adapter, at the index of its id. */
    private final PoolAdapter[] pools;

    private final Retries retries;

    HookBridge(Governor governor, Retries retries, List<ClientModule> clients) {
        this.governor = governor;
        this.retries = retries;
        this.activity = governor.tracksActivity();
        this.pools = new PoolAdapter[Clients.idBound(clients)];
        for (ClientModule client : clients) {
            pools[client.id()] = client.pool(governor, sites);
        }
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
                AgentLog.once(LogLevel.DEBUG, "channel-fd", Sentences.channelDescriptorHidden(t), null);
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
    public void closing(Object closing) {
        if (closing instanceof Socket) {
            if (governor.awaited(closing)) {
                GracefulClose.expect();
            }
        } else {
            GracefulClose.beforeClose(closing);
        }
    }

    @Override
    public void closed(Object connection) {
        GracefulClose.done();
        if (isFinalizer(Thread.currentThread())) {
            governor.closedByFinalizer(connection);
            return;
        }
        governor.closed(connection);
    }

    @Override
    public Object pooledIdle(int client, Object pooled) {
        PoolAdapter pool = pool(client);
        if (pool == null) {
            return null;
        }
        try {
            return pool.idle(pooled);
        } catch (Throwable t) {
            cannotSeeInside(client, pooled, t);
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
    public boolean pooledTaken(int client, Object pooled) {
        PoolAdapter pool = pool(client);
        if (pool == null) {
            return true;
        }
        try {
            return pool.taken(pooled);
        } catch (Throwable t) {
            cannotSeeInside(client, pooled, t);
            return true;
        }
    }

    @Override
    public void pooledBorrowed(int client, Object key, Object pooled, Object handle) {
        PoolAdapter pool = pool(client);
        if (pool == null) {
            return;
        }
        try {
            pool.borrowed(key, pooled, handle);
        } catch (Throwable t) {
            cannotSeeInside(client, key, t);
        }
    }

    @Override
    public void pooledHandle(int client, Object key, Object handle) {
        governor.attachHandle(key, handle);
    }

    @Override
    public void pooledReleased(int client, Object key) {
        governor.returnedToPool(key);
    }

    @Override
    public void requestStarted(int client, Object request) {
        Throwable site = governor.captureSite();
        if (site != null) {
            sites.put(request, site);
        }
    }

    @Override
    public void clientClosing(int client, Object clientObject) {
        PoolAdapter pool = pool(client);
        if (pool != null) {
            try {
                pool.clientClosing(clientObject);
            } catch (Throwable t) {
                cannotSeeInside(client, clientObject, t);
            }
        }
    }

    @Override
    public void poolLeasing(int client, Object poolObject) {
        PoolAdapter pool = pool(client);
        if (pool != null) {
            pool.leasing(poolObject);
        }
    }

    @Override
    public Object pooledMiss(int client, Object route, Object detail) {
        PoolAdapter pool = pool(client);
        if (pool == null) {
            return null;
        }
        try {
            return pool.miss(route, detail);
        } catch (Throwable t) {
            cannotSeeInside(client, route, t);
            return null;
        }
    }

    @Override
    public boolean pooledOffer(int client, Object route, Object detail, Object pooled) {
        PoolAdapter pool = pool(client);
        if (pool == null) {
            return false;
        }
        try {
            return pool.offer(route, detail, pooled);
        } catch (Throwable t) {
            cannotSeeInside(client, pooled, t);
            return false;
        }
    }

    @Override
    public Object poolLeaseEnded(int client, Object leased) {
        PoolAdapter pool = pool(client);
        if (pool == null) {
            return null;
        }
        try {
            return pool.leaseEnded(leased);
        } catch (Throwable t) {
            cannotSeeInside(client, leased, t);
            return null;
        }
    }

    @Override
    public int poolRouteMax(int client, Object poolObject, Object route, int max) {
        PoolAdapter pool = pool(client);
        if (pool == null) {
            return max;
        }
        try {
            return pool.routeMax(poolObject, route, max);
        } catch (Throwable t) {
            cannotSeeInside(client, route, t);
            return max;
        }
    }

    @Override
    public long poolLeaseTimeout(int client, Object poolObject, Object route, long timeoutMillis) {
        PoolAdapter pool = pool(client);
        if (pool == null) {
            return timeoutMillis;
        }
        try {
            return pool.leaseTimeout(poolObject, route, timeoutMillis);
        } catch (Throwable t) {
            cannotSeeInside(client, route, t);
            return timeoutMillis;
        }
    }

    @Override
    public void activity(Object connection) {
        if (activity) {
            governor.activity(connection);
        }
    }

    private PoolAdapter pool(int client) {
        return client >= 0 && client < pools.length ? pools[client] : null;
    }

    /** The JVM's finalizer thread ({@code java.lang.ref.Finalizer$FinalizerThread}, JDK 17 and 25). */
    private static boolean isFinalizer(Thread t) {
        return t.isDaemon() && "Finalizer".equals(t.getName()) && t.getClass().getName().startsWith("java.lang.ref.");
    }

    private static void cannotSeeInside(int client, Object pooled, Throwable t) {
        AgentLog.once(LogLevel.WARN, "pool:" + client, Sentences.poolHidden(pooled, t), null);
    }

    // Retries: all in Retries and the clients' glue; checked exceptions of the client's objects become
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
    public Object retryHandler(int client, Object sender, Object request, Object handler, Object pushPromiseHandler) {
        return retries.retryHandler(client, sender, request, handler, pushPromiseHandler);
    }

    @Override
    public Object retryResult(int client, Object handler, Object future) {
        return retries.retryResult(client, handler, future);
    }

    @Override
    public boolean retryReceived(Object call, Object connection, int status, Object headers, Object input,
                                 Object error, boolean credentials, Throwable thrown) {
        try {
            return retries.retryReceived(call, connection, status, headers, input, error, credentials, thrown);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void internalError(String where, Throwable error) {
        AgentLog.once(LogLevel.WARN, "internal:" + where + ":" + error.getClass().getName(),
                Sentences.internalError(where, error), error);
    }
}

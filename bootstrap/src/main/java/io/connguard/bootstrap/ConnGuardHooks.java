package io.connguard.bootstrap;

import java.net.SocketAddress;

/**
 * The one door between rewritten JDK (and client library) code and the agent.
 *
 * <p>Advice inlined into {@code java.net.Socket}, {@code sun.nio.ch.SocketChannelImpl} and the
 * connection pools calls these static methods. They live in the bootstrap class loader so that
 * code in {@code java.base} and {@code java.net.http} can see them, and they delegate to a
 * {@link HookHandler} that the agent installs at start-up; the default does nothing.
 *
 * <p>Fail open: every method here catches whatever the handler throws, reports it through
 * {@link HookHandler#internalError} and lets the application's own operation proceed. The only
 * deliberate failure, a {@link io.connguard.ConnectionLimitException}, is <em>returned</em> by
 * {@link #beforeConnect} for the advice to throw, never thrown through here by accident.
 */
public final class ConnGuardHooks {

    // The client ids: the one list of supported clients. Each names one folder of the agent
    // (instrument/http/<client>/), whose module registers under its id; hooks that concern a
    // client pass its id, and the agent reaches that client's pool adapter and retry glue by it.

    /** Client id: {@code HttpURLConnection} and its keep-alive cache ({@code sun.net.www.http.HttpClient}). */
    public static final int CLIENT_URLCONNECTION = 1;
    /** Client id: {@code java.net.http.HttpClient} and its pool ({@code jdk.internal.net.http.HttpConnection}). */
    public static final int CLIENT_HTTPCLIENT = 2;
    /** Client id: Apache HttpClient 4 ({@code AbstractConnPool}), including relocated copies. */
    public static final int CLIENT_APACHE4 = 3;
    /** Client id: Apache HttpClient 5 ({@code StrictConnPool}, {@code LaxConnPool}). */
    public static final int CLIENT_APACHE5 = 4;
    /** Client id: OkHttp 3.14, 4 and 5 ({@code RealConnectionPool}). */
    public static final int CLIENT_OKHTTP = 5;

    private static volatile HookHandler handler = HookHandler.NOOP;

    private ConnGuardHooks() {
    }

    /** Installs the agent's handler. Called once by the agent at start-up. */
    public static void install(HookHandler newHandler) {
        handler = newHandler == null ? HookHandler.NOOP : newHandler;
    }

    /** True once an agent handler is installed (used by the agent to refuse a second start). */
    public static boolean isInstalled() {
        return handler != HookHandler.NOOP;
    }

    /**
     * Called on entry to a client connect: {@code Socket.connect(SocketAddress, int)},
     * {@code SocketChannelImpl.connect(SocketAddress)} and {@code SocketChannelImpl.blockingConnect}.
     * May wait for a slot (bounded by the queue timeout and the caller's connect timeout).
     *
     * @param timeoutMillis the caller's connect timeout, 0 when it has none
     * @param blocking      false for a non-blocking channel connect
     * @return see {@link HookHandler#beforeConnect}
     */
    public static Object beforeConnect(Object connection, SocketAddress endpoint, long timeoutMillis, boolean blocking) {
        HookHandler h = handler;
        try {
            return h.beforeConnect(connection, endpoint, timeoutMillis, blocking);
        } catch (Throwable t) {
            report(h, "beforeConnect", t);
            return null;
        }
    }

    public static void connectFailed(Object connection) {
        HookHandler h = handler;
        try {
            h.connectFailed(connection);
        } catch (Throwable t) {
            report(h, "connectFailed", t);
        }
    }

    public static void closing(Object closing) {
        HookHandler h = handler;
        try {
            h.closing(closing);
        } catch (Throwable t) {
            report(h, "closing", t);
        }
    }

    public static void closed(Object connection) {
        HookHandler h = handler;
        try {
            h.closed(connection);
        } catch (Throwable t) {
            report(h, "closed", t);
        }
    }

    /** On entry to a pool's "take back" method; returns the token for {@link #pooledReturned}. */
    public static Object pooledIdle(int client, Object pooled) {
        HookHandler h = handler;
        try {
            return h.pooledIdle(client, pooled);
        } catch (Throwable t) {
            report(h, "pooledIdle", t);
            return null;
        }
    }

    /** On exit from a pool's "take back" method. */
    public static void pooledReturned(Object token) {
        if (token == null) {
            return;
        }
        HookHandler h = handler;
        try {
            h.pooledReturned(token);
        } catch (Throwable t) {
            report(h, "pooledReturned", t);
        }
    }

    public static boolean pooledTaken(int client, Object pooled) {
        HookHandler h = handler;
        try {
            return h.pooledTaken(client, pooled);
        } catch (Throwable t) {
            report(h, "pooledTaken", t);
            return true;
        }
    }

    public static void pooledBorrowed(int client, Object key, Object pooled, Object handle) {
        HookHandler h = handler;
        try {
            h.pooledBorrowed(client, key, pooled, handle);
        } catch (Throwable t) {
            report(h, "pooledBorrowed", t);
        }
    }

    public static void pooledHandle(int client, Object key, Object handle) {
        HookHandler h = handler;
        try {
            h.pooledHandle(client, key, handle);
        } catch (Throwable t) {
            report(h, "pooledHandle", t);
        }
    }

    public static void pooledReleased(int client, Object key) {
        HookHandler h = handler;
        try {
            h.pooledReleased(client, key);
        } catch (Throwable t) {
            report(h, "pooledReleased", t);
        }
    }

    public static void requestStarted(int client, Object request) {
        HookHandler h = handler;
        try {
            h.requestStarted(client, request);
        } catch (Throwable t) {
            report(h, "requestStarted", t);
        }
    }

    public static void clientClosing(int client, Object clientObject) {
        HookHandler h = handler;
        try {
            h.clientClosing(client, clientObject);
        } catch (Throwable t) {
            report(h, "clientClosing", t);
        }
    }

    public static void poolLeasing(int client, Object poolObject) {
        HookHandler h = handler;
        try {
            h.poolLeasing(client, poolObject);
        } catch (Throwable t) {
            report(h, "poolLeasing", t);
        }
    }

    /**
     * On exit from a pool's lookup that found nothing idle for {@code route} (with
     * {@code detail}): may wait for a connection of that pool.
     *
     * @return a connection handed over, to return from the lookup instead, or null
     */
    public static Object pooledMiss(int client, Object route, Object detail) {
        HookHandler h = handler;
        try {
            return h.pooledMiss(client, route, detail);
        } catch (Throwable t) {
            report(h, "pooledMiss", t);
            return null;
        }
    }

    /**
     * On entry to a pool's "put idle" for {@code route} (with {@code detail}).
     *
     * @return true if the put must be skipped: the connection was handed to a waiting request, or
     *         closed to give its slot to the head of the line
     */
    public static boolean pooledOffer(int client, Object route, Object detail, Object pooled) {
        HookHandler h = handler;
        try {
            return h.pooledOffer(client, route, detail, pooled);
        } catch (Throwable t) {
            report(h, "pooledOffer", t);
            return false;
        }
    }

    /**
     * On exit from the lease that {@link #poolLeasing} or {@link #pooledMiss} announced, however it
     * ended: {@code leased} is the connection it returned (null if it threw).
     *
     * @return a Throwable to throw from the lease instead (a refusal for a connection that has not
     *         connected yet), anything else to return from it instead (a lease completed as its wait
     *         ended), or null
     */
    public static Object poolLeaseEnded(int client, Object leased) {
        HookHandler h = handler;
        try {
            return h.poolLeaseEnded(client, leased);
        } catch (Throwable t) {
            report(h, "poolLeaseEnded", t);
            return null;
        }
    }

    /**
     * On exit from {@code pool}'s own per-route limit ({@code max}) for {@code route}.
     *
     * @return the limit the pool must use: for a capped host, at most the cap
     */
    public static int poolRouteMax(int client, Object pool, Object route, int max) {
        HookHandler h = handler;
        try {
            return h.poolRouteMax(client, pool, route, max);
        } catch (Throwable t) {
            report(h, "poolRouteMax", t);
            return max;
        }
    }

    /**
     * On entry to a pool's blocking lease for {@code route}, which waits in the pool's own queue at
     * most {@code timeoutMillis} (0: without end); {@link #poolLeaseEnded} follows on exit.
     *
     * @return the longest the lease may wait in milliseconds (0: without end), or -1 to refuse it at
     *         once (then {@link #poolLeaseEnded} gives the refusal)
     */
    public static long poolLeaseTimeout(int client, Object pool, Object route, long timeoutMillis) {
        HookHandler h = handler;
        try {
            return h.poolLeaseTimeout(client, pool, route, timeoutMillis);
        } catch (Throwable t) {
            report(h, "poolLeaseTimeout", t);
            return timeoutMillis;
        }
    }

    /** On exit from every socket stream and channel read and write. */
    public static void activity(Object connection) {
        HookHandler h = handler;
        try {
            h.activity(connection);
        } catch (Throwable t) {
            report(h, "activity", t);
        }
    }

    /** See {@link HookHandler#retryStart}. */
    public static Object retryStart(int client, Object request, Object target) {
        HookHandler h = handler;
        try {
            return h.retryStart(client, request, target);
        } catch (Throwable t) {
            report(h, "retryStart", t);
            return null;
        }
    }

    /** See {@link HookHandler#retryResponse}; never repeats on a failure of its own. */
    public static boolean retryResponse(Object call, Object response, Throwable thrown) {
        if (call == null) {
            return false;
        }
        HookHandler h = handler;
        try {
            return h.retryResponse(call, response, thrown);
        } catch (Throwable t) {
            report(h, "retryResponse", t);
            retryEnd(call);
            return false;
        }
    }

    public static void retryEnd(Object call) {
        if (call == null) {
            return;
        }
        HookHandler h = handler;
        try {
            h.retryEnd(call);
        } catch (Throwable t) {
            report(h, "retryEnd", t);
        }
    }

    public static Object retryFollowUp(int client, Object response, Object followUp) {
        HookHandler h = handler;
        try {
            return h.retryFollowUp(client, response, followUp);
        } catch (Throwable t) {
            report(h, "retryFollowUp", t);
            return followUp;
        }
    }

    public static Object connectRetryStart(int client, Object target, int port, Object connectTimeout) {
        HookHandler h = handler;
        try {
            return h.connectRetryStart(client, target, port, connectTimeout);
        } catch (Throwable t) {
            report(h, "connectRetryStart", t);
            return null;
        }
    }

    public static boolean connectRetry(Object call, Throwable thrown) {
        if (call == null) {
            return false;
        }
        HookHandler h = handler;
        try {
            return h.connectRetry(call, thrown);
        } catch (Throwable t) {
            report(h, "connectRetry", t);
            return false;
        }
    }

    public static Object retryHandler(int client, Object sender, Object request, Object responseHandler,
                                      Object pushPromiseHandler) {
        HookHandler h = handler;
        try {
            Object wrapped = h.retryHandler(client, sender, request, responseHandler, pushPromiseHandler);
            return wrapped != null ? wrapped : responseHandler;
        } catch (Throwable t) {
            report(h, "retryHandler", t);
            return responseHandler;
        }
    }

    public static Object retryResult(int client, Object responseHandler, Object future) {
        HookHandler h = handler;
        try {
            Object result = h.retryResult(client, responseHandler, future);
            return result != null ? result : future;
        } catch (Throwable t) {
            report(h, "retryResult", t);
            return future;
        }
    }

    /** See {@link HookHandler#retryReceived}; never repeats on a failure of its own. */
    public static boolean retryReceived(Object call, Object connection, int status, Object headers,
                                        Object input, Object error, boolean credentials, Throwable thrown) {
        if (call == null) {
            return false;
        }
        HookHandler h = handler;
        try {
            return h.retryReceived(call, connection, status, headers, input, error, credentials, thrown);
        } catch (Throwable t) {
            report(h, "retryReceived", t);
            retryEnd(call);
            return false;
        }
    }

    private static void report(HookHandler h, String where, Throwable t) {
        try {
            h.internalError(where, t);
        } catch (Throwable ignored) {
            // Nothing left to report to; the application's operation proceeds regardless.
        }
    }
}

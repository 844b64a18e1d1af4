package io.connguard.bootstrap;

import java.net.SocketAddress;

/**
 * What the static {@link ConnGuardHooks} delegate to. The agent installs its implementation at
 * start-up; until then (or if the agent fails to start) this no-op default keeps every rewritten
 * JDK method behaving exactly as it did before.
 *
 * <p>An abstract class rather than an interface so that later methods can be added with a no-op
 * body without breaking an agent jar built against an older bootstrap.
 */
public abstract class HookHandler {

    /** The no-op default: governs nothing. */
    static final HookHandler NOOP = new HookHandler() { };

    /**
     * A client connection is about to connect. See {@link ConnGuardHooks#beforeConnect}.
     *
     * @return {@code null} to proceed, having taken nothing; a {@link Throwable} that the connect
     *         must throw instead of connecting; an {@link Integer} to proceed with that connect
     *         timeout in milliseconds instead (time spent waiting was taken off it), having taken a
     *         slot; any other object to proceed, having taken a slot. Only a connect that took a
     *         slot reports its failure through {@link #connectFailed}.
     */
    public Object beforeConnect(Object connection, SocketAddress endpoint, long timeoutMillis, boolean blocking) {
        return null;
    }

    /** The connect of a connection that {@link #beforeConnect} let through threw. */
    public void connectFailed(Object connection) {
    }

    /**
     * A socket, or then the JDK's {@code SocketImpl} under it, is about to be closed. Returns once
     * the close may go ahead (bounded).
     */
    public void closing(Object closing) {
    }

    /** A socket or channel was closed (may be called more than once for one connection). */
    public void closed(Object connection) {
    }

    /**
     * The pool of client {@code client} (an id of {@link ConnGuardHooks}) is about to take back an idle
     * connection. Called before the connection becomes visible in the pool, so that no other
     * thread can take it out while it is still marked in use.
     *
     * @return a token for {@link #pooledReturned}, or null
     */
    public Object pooledIdle(int client, Object pooled) {
        return null;
    }

    /** The pool has taken the connection back; {@code token} is what {@link #pooledIdle} returned. */
    public void pooledReturned(Object token) {
    }

    /**
     * The pool of client {@code client} is handing out a pooled connection.
     *
     * @return {@code false} if the connection was reclaimed (closed) by ConnGuard and must not be
     *         used; the pool then behaves as if it had nothing to hand out
     */
    public boolean pooledTaken(int client, Object pooled) {
        return true;
    }

    /**
     * The pool of client {@code client} lent a connection to application code. {@code key} is what the
     * pool's give-back names later; {@code pooled} the pool-side object if different (may be
     * null); {@code handle} the user-facing object whose loss means the connection can never be
     * given back (may be null). Never blocks.
     */
    public void pooledBorrowed(int client, Object key, Object pooled, Object handle) {
    }

    /** The user-facing handle of a borrow became known after the borrow (see {@link #pooledBorrowed}). */
    public void pooledHandle(int client, Object key, Object handle) {
    }

    /** The borrow named {@code key} ended without the connection going idle (closed, discarded). */
    public void pooledReleased(int client, Object key) {
    }

    /** A pool lookup found nothing idle: the connection handed over after a wait, or null. */
    public Object pooledMiss(int client, Object route, Object detail) {
        return null;
    }

    /** A connection is about to go idle in its pool: true if it was handed over or closed instead. */
    public boolean pooledOffer(int client, Object route, Object detail, Object pooled) {
        return false;
    }

    /** The lease announced by {@link #poolLeasing} is over: a Throwable to throw from it instead, or null. */
    public Object poolLeaseEnded(int client, Object leased) {
        return null;
    }

    /** A pool's own per-route limit for {@code route}: the limit it must use. */
    public int poolRouteMax(int client, Object pool, Object route, int max) {
        return max;
    }

    /** A pool's blocking lease is about to wait at most {@code timeoutMillis}: the wait it may take, or -1. */
    public long poolLeaseTimeout(int client, Object pool, Object route, long timeoutMillis) {
        return timeoutMillis;
    }

    /** A request object of an asynchronous client was created on the caller's thread. */
    public void requestStarted(int client, Object request) {
    }

    /** The current thread is about to lease from {@code poolObject} (Apache HttpClient 5). */
    public void poolLeasing(int client, Object poolObject) {
    }

    /** The application is shutting down {@code client} (its pool closes its connections next). */
    public void clientClosing(int client, Object clientObject) {
    }

    /** Bytes were read from or written to a socket or channel. On every read and write: must be cheap. */
    public void activity(Object connection) {
    }

    /**
     * Retry: a request is starting in a client's call path ({@code client} is a client id of
     * {@link ConnGuardHooks}). {@code request} and {@code target} are the client's own objects.
     *
     * @return the request's retry state for {@link #retryResponse}, or null when not retried
     */
    public Object retryStart(int client, Object request, Object target) {
        return null;
    }

    /**
     * Retry: the attempt of {@code call} ended with {@code response} (or {@code thrown}).
     *
     * @return true to run the attempt again: the refused response has been consumed and released
     *         and the wait is over; false when the request is over
     */
    public boolean retryResponse(Object call, Object response, Throwable thrown) {
        return false;
    }

    /** Retry: the request of {@code call} is over (for clients that decide elsewhere). */
    public void retryEnd(Object call) {
    }

    /**
     * Retry: a client is about to decide the follow-up of {@code response}; returns the request
     * to send next: {@code followUp} (the client's own choice, may be null) or a retry.
     */
    public Object retryFollowUp(int client, Object response, Object followUp) {
        return followUp;
    }

    /**
     * Retry: a connect with a fresh socket is starting. {@code target} is the host name (then
     * {@code port} applies) or the client's own object naming the destination;
     * {@code connectTimeout} a number of milliseconds or the client's own timeout object.
     *
     * @return state for {@link #connectRetry}, or null
     */
    public Object connectRetryStart(int client, Object target, int port, Object connectTimeout) {
        return null;
    }

    /** Retry: the connect of {@code call} ended ({@code thrown} null on success); true to connect again. */
    public boolean connectRetry(Object call, Throwable thrown) {
        return false;
    }

    /**
     * Retry, {@code java.net.http.HttpClient}: the body handler to use for a request being sent
     * (the given one, or one that recognises refusals).
     */
    public Object retryHandler(int client, Object sender, Object request, Object handler, Object pushPromiseHandler) {
        return handler;
    }

    /** Retry, {@code java.net.http.HttpClient}: the future to give the caller for {@code future}. */
    public Object retryResult(int client, Object handler, Object future) {
        return future;
    }

    /**
     * Retry, for a client whose response is seen in parts ({@code HttpURLConnection}): the attempt
     * of {@code call} ended in an error ({@code thrown}) with {@code status}, the response
     * {@code headers} and its streams; consume and release a refused one and say whether to send
     * the request again.
     */
    public boolean retryReceived(Object call, Object connection, int status, Object headers,
                                 Object input, Object error, boolean credentials, Throwable thrown) {
        return false;
    }

    /** Something inside the agent failed; it must be reported once and otherwise ignored. */
    public void internalError(String where, Throwable error) {
    }
}

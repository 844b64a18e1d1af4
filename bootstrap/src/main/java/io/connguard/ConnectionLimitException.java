package io.connguard;

import java.net.ConnectException;

/**
 * Thrown by a connect that ConnGuard did not let through: the per-host limit was reached and no
 * slot came free within the queue timeout (or the caller's own connect timeout), or the queue of
 * waiters for that host was full.
 *
 * <p>It extends {@link ConnectException} so that code which already handles a refused connect
 * handles this one too. It lives in the bootstrap class path so that every class loader sees the
 * same class. The message names the host, the limit, how long the connect waited and the setting
 * to change.
 */
public class ConnectionLimitException extends ConnectException {
    private static final long serialVersionUID = 1L;

    private final String host;
    private final int port;
    private final int limit;
    private final long waitedMillis;

    public ConnectionLimitException(String message, String host, int port, int limit, long waitedMillis) {
        super(message);
        this.host = host;
        this.port = port;
        this.limit = limit;
        this.waitedMillis = waitedMillis;
    }

    /** The host as the caller named it. */
    public String getHost() {
        return host;
    }

    public int getPort() {
        return port;
    }

    /** The per-host limit in force when the connect gave up. */
    public int getLimit() {
        return limit;
    }

    /** How long the connect waited for a slot, in milliseconds. */
    public long getWaitedMillis() {
        return waitedMillis;
    }
}

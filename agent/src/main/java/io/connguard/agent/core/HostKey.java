package io.connguard.agent.core;

import java.util.Locale;

/**
 * A destination as the caller named it: {@code InetSocketAddress.getHostString()} and the port.
 * Never the result of a reverse DNS lookup, so it costs nothing and matches the host names users
 * write in their limits. Host names are compared case-insensitively.
 */
public final class HostKey {
    private final String host;
    private final int port;
    private final int hash;

    public HostKey(String host, int port) {
        this.host = host.toLowerCase(Locale.ROOT);
        this.port = port;
        this.hash = this.host.hashCode() * 31 + port;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof HostKey)) {
            return false;
        }
        HostKey other = (HostKey) o;
        return port == other.port && host.equals(other.host);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /** {@code host:port}, with IPv6 literals in brackets. */
    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}

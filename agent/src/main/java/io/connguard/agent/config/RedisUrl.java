package io.connguard.agent.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * {@code CONNGUARD_FLEET_REDIS}: {@code redis://[user:password@]host[:port][/db]}, or
 * {@code rediss://} for TLS. {@link #toString()} never shows the credentials: every log line,
 * JMX attribute and error message uses it.
 */
public final class RedisUrl {

    static final String ACCEPTED = "redis://[user:password@]host[:port][/db] or rediss://... (TLS); port 6379 if"
            + " none; empty or none = no fleet mode";
    static final RedisUrl NONE = new RedisUrl(false, "", 0, null, null, 0);

    private final boolean tls;
    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final int database;

    private RedisUrl(boolean tls, String host, int port, String user, String password, int database) {
        this.tls = tls;
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.database = database;
    }

    /**
     * @throws IllegalArgumentException with a reason that never repeats the credentials
     */
    static RedisUrl parse(String text) {
        if (text == null || text.isBlank() || text.trim().equalsIgnoreCase("none")) {
            return NONE;
        }
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("redis") && !scheme.equals("rediss")) {
            throw new IllegalArgumentException("the scheme must be redis or rediss");
        }
        String host = uri.getHost();
        int port = uri.getPort();
        String info = uri.getUserInfo();
        if (host == null && uri.getRawAuthority() != null) {
            // java.net.URI gives no host for names it does not accept as server names, such as
            // docker-compose's redis_1: read the authority ourselves.
            String authority = uri.getRawAuthority();
            int at = authority.lastIndexOf('@');
            if (at >= 0) {
                info = decode(authority.substring(0, at));
                authority = authority.substring(at + 1);
            }
            int colon = authority.lastIndexOf(':');
            if (colon > authority.lastIndexOf(']')) {
                try {
                    port = Integer.parseInt(authority.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("the port is not a number");
                }
                authority = authority.substring(0, colon);
            }
            host = authority;
        }
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("no host");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (port > 65_535) {
            throw new IllegalArgumentException("the port is out of range");
        }
        port = port < 0 ? 6379 : port;
        String user = null;
        String password = null;
        if (info != null && !info.isEmpty()) {
            int colon = info.indexOf(':');
            if (colon < 0) {
                password = info; // redis://secret@host: a password for the default user, as redis-cli reads it
            } else {
                user = info.substring(0, colon).isEmpty() ? null : info.substring(0, colon);
                password = info.substring(colon + 1);
            }
        }
        int database = 0;
        String path = uri.getPath();
        if (path != null && path.length() > 1) {
            try {
                database = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("the path must be a database number");
            }
            if (database < 0) {
                throw new IllegalArgumentException("the database number must be 0 or more");
            }
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("no query or fragment is accepted");
        }
        return new RedisUrl(scheme.equals("rediss"), host, port, user, password, database);
    }

    /** Percent-decoding as in a URL's user info ({@code +} stays {@code +}). */
    private static String decode(String text) {
        return java.net.URLDecoder.decode(text.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
    }

    public boolean isSet() {
        return !host.isEmpty();
    }

    public boolean tls() {
        return tls;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** The ACL user, or null for the default user. */
    public String user() {
        return user;
    }

    /** The password, or null. Never log it. */
    public String password() {
        return password;
    }

    public int database() {
        return database;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RedisUrl)) {
            return false;
        }
        RedisUrl u = (RedisUrl) o;
        return tls == u.tls && port == u.port && database == u.database && host.equals(u.host)
                && java.util.Objects.equals(user, u.user) && java.util.Objects.equals(password, u.password);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(tls, host, port, user, database);
    }

    /** {@code redis://***@host:port/db}: the credentials masked. */
    @Override
    public String toString() {
        if (!isSet()) {
            return "";
        }
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return (tls ? "rediss://" : "redis://") + (user != null || password != null ? "***@" : "") + h + ":" + port
                + (database != 0 ? "/" + database : "");
    }
}

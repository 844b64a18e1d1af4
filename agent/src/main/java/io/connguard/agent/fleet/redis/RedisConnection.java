package io.connguard.agent.fleet.redis;

import io.connguard.agent.config.RedisUrl;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisSocketFactory;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One Jedis connection to the fleet's Redis, over an {@link AgentSocket} (so the agent never
 * governs it), with a bounded name lookup ({@link BoundedResolver}), connect and reply timeouts, TLS for {@code rediss://} with host name
 * verification, and the permit script loaded once ({@code EVALSHA}, reloaded after a
 * {@code NOSCRIPT}, e.g. when Redis restarted).
 */
final class RedisConnection implements AutoCloseable {

    private final Jedis jedis;
    private final String script;
    private String sha;

    private RedisConnection(Jedis jedis, String script) {
        this.jedis = jedis;
        this.script = script;
    }

    /**
     * Connects; every step is bounded: the name lookup by {@code resolveMillis}, the TCP connect and
     * each reply (TLS handshake, AUTH, SELECT, CLIENT SETNAME, later every command) by
     * {@code timeoutMillis}.
     */
    static RedisConnection open(RedisUrl url, int timeoutMillis, BoundedResolver resolver, int resolveMillis,
                                String script) {
        JedisSocketFactory sockets = () -> {
            Socket socket = new AgentSocket();
            try {
                socket.setTcpNoDelay(true);
                socket.setKeepAlive(true);
                // Never an unresolved InetSocketAddress: its constructor would resolve without a bound.
                InetSocketAddress address = new InetSocketAddress(resolver.resolve(url.host(), resolveMillis), url.port());
                socket.connect(address, timeoutMillis);
                socket.setSoTimeout(timeoutMillis);
                if (!url.tls()) {
                    return socket;
                }
                SSLSocket tls = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault())
                        .createSocket(socket, url.host(), url.port(), true);
                SSLParameters p = tls.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                tls.setSSLParameters(p);
                tls.setSoTimeout(timeoutMillis);
                tls.startHandshake();
                return tls;
            } catch (Exception e) {
                try {
                    socket.close();
                } catch (Exception ignored) {
                    // already failing
                }
                throw new JedisConnectionException("cannot connect to " + url + ": " + e, e);
            }
        };
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeoutMillis)
                .socketTimeoutMillis(timeoutMillis)
                .database(url.database())
                .clientName("connguard");
        if (url.user() != null) {
            config.user(url.user());
        }
        if (url.password() != null) {
            config.password(url.password());
        }
        Jedis jedis = new Jedis(sockets, config.build());
        try {
            jedis.connect();
            return new RedisConnection(jedis, script);
        } catch (RuntimeException e) {
            jedis.close();
            throw e;
        }
    }

    /** Whether {@code e} is Redis answering with an error, as opposed to the connection failing. */
    static boolean isErrorReply(Exception e) {
        return e instanceof redis.clients.jedis.exceptions.JedisDataException;
    }

    /** Runs the permit script; returns its integer reply. */
    long[] run(List<String> keys, List<String> args) {
        if (sha == null) {
            sha = jedis.scriptLoad(script);
        }
        Object reply;
        try {
            reply = jedis.evalsha(sha, keys, args);
        } catch (JedisNoScriptException e) {
            sha = jedis.scriptLoad(script);
            reply = jedis.evalsha(sha, keys, args);
        }
        List<?> list = (List<?>) reply;
        long[] r = new long[list.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = ((Number) list.get(i)).longValue();
        }
        return r;
    }

    @Override
    public void close() {
        try {
            jedis.close();
        } catch (RuntimeException ignored) {
            // the connection is being dropped anyway
        }
    }
}

package io.connguard.agent.fleet.redis;

import io.connguard.agent.config.RedisUrl;
import io.connguard.agent.core.HostKey;
import io.connguard.agent.core.fleet.FleetBackend;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * The fleet's permits in Redis: one Lua script ({@code fleet-permits.lua}) does every exchange
 * atomically on Redis's own clock, so no JVM's clock and no read-modify-write across round trips
 * decides anything. Per destination and fleet, five keys share one hash tag
 * ({@code {connguard:<fleet>:<host>:<port>}}), so Redis Cluster keeps them on one node.
 *
 * <p>One thread at a time calls {@link #sync} (the coordinator's call thread); the connection is made on first use and
 * again after any failure, so this class loads no Redis client class until fleet mode is used.
 */
public final class RedisFleetBackend implements FleetBackend {

    /** Connect and reply timeout of every Redis call: a slower Redis counts as unreachable. */
    public static final int TIMEOUT_MILLIS = 500;
    /** How long the Redis host's name may take to resolve. */
    public static final int RESOLVE_TIMEOUT_MILLIS = 1_000;

    private final RedisUrl url;
    private final String fleet;
    private final long leaseMillis;
    private final long ticketLeaseMillis;
    private final BoundedResolver resolver = BoundedResolver.system();
    // Made on first use, on the fleet's call thread: never in premain.
    private String holder;
    private String script;
    private RedisConnection connection;

    public RedisFleetBackend(RedisUrl url, String fleet, long leaseMillis) {
        this.url = url;
        this.fleet = fleet;
        this.leaseMillis = leaseMillis;
        // A waiting JVM exchanges every few tens of milliseconds; its tickets outlive a missed exchange or two.
        this.ticketLeaseMillis = Math.max(1_000, Math.min(leaseMillis, 5_000));
    }

    private static String readScript() {
        try (InputStream in = RedisFleetBackend.class.getResourceAsStream("fleet-permits.lua")) {
            if (in == null) {
                throw new IllegalStateException("fleet-permits.lua is missing from the agent jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read fleet-permits.lua", e);
        }
    }

    /** This JVM's name in Redis: its pid and a random part, never reused (the call thread only). */
    private String holder() {
        if (holder == null) {
            holder = ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
        }
        return holder;
    }

    @Override
    public Sync sync(HostKey host, int cap, int held, int pending, int extra) throws Exception {
        String tag = "{connguard:" + fleet + ":" + host.host() + ":" + host.port() + "}:";
        List<String> keys = List.of(tag + "holders", tag + "counts", tag + "queue", tag + "waiters", tag + "meta");
        List<String> args = List.of(holder(), Integer.toString(cap), Long.toString(leaseMillis),
                Long.toString(ticketLeaseMillis), Integer.toString(held), Integer.toString(pending),
                Integer.toString(extra));
        RedisConnection c = connection;
        long[] r;
        try {
            if (c == null) {
                if (script == null) {
                    script = readScript();
                }
                c = RedisConnection.open(url, TIMEOUT_MILLIS, resolver, RESOLVE_TIMEOUT_MILLIS, script);
                connection = c;
            }
            r = c.run(keys, args);
        } catch (Exception e) {
            if (c != null && RedisConnection.isErrorReply(e)) {
                // Redis answered with an error (NOPERM, MOVED, ...): the connection is fine.
                throw new Refused(scrub(e.getMessage() != null ? e.getMessage() : e.toString()));
            }
            connection = null;
            if (c != null) {
                c.close();
            }
            throw new IOException(scrub(e.toString()));
        }
        // {granted, used, queue length, own tickets, own tickets behind the free slots, now}
        return new Sync((int) r[0], (int) r[1], (int) Math.max(0, r[2] - r[3]));
    }

    /** An error text without the password, whatever the client library put in it. */
    private String scrub(String text) {
        String password = url.password();
        return password == null || password.isEmpty() ? text : text.replace(password, "***");
    }

    @Override
    public String describe() {
        return url.toString() + " (fleet " + fleet + ")";
    }
}

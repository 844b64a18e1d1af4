package io.connguard.bench.jmh;

import io.connguard.agent.config.AgentConfig;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.LocalSlotStore;
import io.connguard.agent.core.SlotStore;
import io.connguard.agent.core.fleet.FleetCoordinator;
import io.connguard.agent.core.fleet.FleetHost;
import io.connguard.agent.core.fleet.FleetSlotStore;
import io.connguard.agent.fleet.redis.RedisFleetBackend;
import io.connguard.bench.BenchRedis;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * {@link FleetHookPathBenchmark}'s side that names the agent's classes, loaded by
 * {@link AgentClasses}: a {@link Governor} built the way {@code AgentInstaller} builds it, from
 * settings read by {@link AgentConfig} (a {@link LocalSlotStore}, and for a fleet a
 * {@link FleetSlotStore} with a {@link FleetCoordinator} over a {@link RedisFleetBackend}
 * against a {@link BenchRedis}), and the counts of what reached Redis.
 */
public final class FleetCore implements FleetCorePath {

    static final String HOST = "127.0.0.1";
    static final int PORT = 9;

    private String mode;
    private BenchRedis redis;
    private Governor governor;
    private FleetCoordinator coordinator;
    private HostState host;
    private long connectsAtStart;
    private long waitsAtStart;
    private long syncsAtStart;
    private long evalshaAtStart;
    private long iterationStartNanos;
    private long measuredConnects;
    private long measuredWaits;
    private long measuredSyncs;
    private long measuredEvalsha;
    private long measuredNanos;

    public FleetCore() {
    }

    @Override
    public void start(String mode, int localLimit, int fleetCap, int threads) throws Exception {
        this.mode = mode;
        Map<String, String> env = new HashMap<>();
        env.put("CONNGUARD_HOST_LIMITS", HOST + ":" + PORT + "=" + localLimit);
        int cap;
        switch (mode) {
            case "local":
                cap = 0;
                break;
            case "fleet":
                cap = fleetCap;
                break;
            case "nearCap":
                cap = threads;
                break;
            default:
                throw new IllegalArgumentException("mode must be local, fleet or nearCap, not '" + mode + "'");
        }
        if (cap > 0) {
            redis = BenchRedis.start();
            env.put("CONNGUARD_FLEET_REDIS", redis.url());
            env.put("CONNGUARD_FLEET_LIMITS", HOST + ":" + PORT + "=" + cap);
        }
        AgentConfig config = AgentConfig.load(env, new Properties());
        // As AgentInstaller wires it (its listener and wait rules do nothing on this path: no wait, no leak).
        SlotStore store = new LocalSlotStore();
        if (cap > 0) {
            if (!config.fleetEnabled()) {
                throw new IllegalStateException("fleet settings not in effect: " + config.describe());
            }
            coordinator = new FleetCoordinator(new RedisFleetBackend(config.fleetRedis(), config.fleetName(),
                    config.fleetLeaseMillis()), config.fleetFallbackLimit(), config.fleetLeaseMillis(),
                    new FleetCoordinator.Events() {
                    }, r -> {
                        Thread t = new Thread(r, "connguard-fleet");
                        t.setDaemon(true);
                        return t;
                    });
            store = new FleetSlotStore(store, config::fleetLimitFor, coordinator);
        }
        governor = new Governor(config::limitFor, store, config.queueTimeoutMillis(), config.queueMax(),
                new Governor.Listener() {
                });
        host = governor.host(HOST, PORT);
        System.out.println("# " + mode + ": " + config.describe() + (redis == null ? ""
                : "; redis-server pid " + redis.pid() + " on port " + redis.port()) + "; threads " + threads
                + "; agent classes from " + Governor.class.getProtectionDomain().getCodeSource().getLocation());
    }

    @Override
    public Object connectClose() {
        Object connection = new Object();
        Object decision = governor.beforeConnect(connection, HOST, PORT, 0, true);
        if (decision != Governor.ACQUIRED && !(decision instanceof Integer)) {
            throw new IllegalStateException("connect refused: " + decision); // a timeout or an error: never expected
        }
        governor.closed(connection);
        return decision;
    }

    @Override
    public void iterationStarted() throws Exception {
        connectsAtStart = host.connects();
        waitsAtStart = host.waits();
        syncsAtStart = coordinator == null ? 0 : coordinator.syncCount();
        evalshaAtStart = redis == null ? 0 : redis.evalshaCalls();
        iterationStartNanos = System.nanoTime();
    }

    @Override
    public void iterationEnded() throws Exception {
        measuredNanos += System.nanoTime() - iterationStartNanos;
        measuredConnects += host.connects() - connectsAtStart;
        measuredWaits += host.waits() - waitsAtStart;
        if (coordinator != null) {
            measuredSyncs += coordinator.syncCount() - syncsAtStart;
            measuredEvalsha += redis.evalshaCalls() - evalshaAtStart;
        }
    }

    @Override
    public void stop() throws Exception {
        try {
            if (host.open() != 0) {
                throw new IllegalStateException(host.open() + " connections left open: the benchmark leaked slots");
            }
            if (coordinator == null) {
                System.out.println(String.format(Locale.ROOT, "# local: %,d connects measured, %,d of them waited",
                        measuredConnects, measuredWaits));
                return;
            }
            FleetHost f = host.fleet();
            String state = String.format(Locale.ROOT, "fleet cap %d, permits held %d, fleet in use %d, grants %d,"
                            + " fallbacks %d, last exchange %.0f µs", f.cap(), f.allowance(), f.fleetInUse(),
                    f.grants(), coordinator.fallbackCount(), f.lastExchangeNanos() / 1e3);
            System.out.println(String.format(Locale.ROOT, "# fleet: %,d connects measured, %,d of them waited for a"
                            + " permit; %,d Redis exchanges (syncCount), %,d EVALSHA calls seen by Redis: %.3g"
                            + " exchanges per 1000 connects, %,.0f per second; %s", measuredConnects, measuredWaits,
                    measuredSyncs, measuredEvalsha,
                    measuredConnects == 0 ? Double.NaN : measuredSyncs * 1000.0 / measuredConnects,
                    measuredSyncs / Math.max(1e-9, measuredNanos / 1e9), state));
            if (coordinator.fallbackCount() > 0 || !f.fleetMode() || f.grants() == 0) {
                throw new IllegalStateException("this fork did not run in fleet mode throughout (" + state
                        + "): not a fleet measurement");
            }
        } finally {
            if (coordinator != null) {
                coordinator.stop();
            }
            if (redis != null) {
                redis.close();
            }
        }
    }
}

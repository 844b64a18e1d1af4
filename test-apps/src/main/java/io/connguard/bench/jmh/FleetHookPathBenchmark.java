package io.connguard.bench.jmh;

import io.connguard.agent.config.AgentConfig;
import io.connguard.agent.core.FleetCoordinator;
import io.connguard.agent.core.FleetHost;
import io.connguard.agent.core.FleetSlotStore;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.LocalSlotStore;
import io.connguard.agent.core.SlotStore;
import io.connguard.agent.fleet.RedisFleetBackend;
import io.connguard.bench.BenchRedis;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The policy core's connect+close path with a fleet-wide cap, without the network and without
 * class rewriting: {@link Governor#beforeConnect} then {@link Governor#closed} on a connection
 * object that is never really connected, on a {@code Governor} built the way the agent builds it
 * ({@code AgentInstaller}: the settings read by {@link AgentConfig}, a {@link LocalSlotStore},
 * and for a fleet a {@link FleetSlotStore} with a {@link FleetCoordinator} over a
 * {@link RedisFleetBackend}). {@code mode}:
 *
 * <ul>
 * <li>{@code local}: {@code CONNGUARD_HOST_LIMITS=127.0.0.1:9=64} alone, the local-only mode.</li>
 * <li>{@code fleet}: the same local cap and {@code CONNGUARD_FLEET_LIMITS=127.0.0.1:9=1000} against a
 *     real {@code redis-server} that the trial starts on a free loopback port and stops by PID: a
 *     fleet far from its cap, where permits come in blocks and almost no connect reaches Redis.</li>
 * <li>{@code nearCap}: the fleet cap is the number of benchmark threads, so this JVM holds the
 *     whole cap and takes its last free permit on most connects: the cost when the fleet is at its
 *     cap (no other JVM waits, so permits stay here, but the coordinator is woken to fetch more).</li>
 * </ul>
 *
 * One and four threads on one destination. Each trial prints its Redis exchanges
 * ({@link FleetCoordinator#syncCount()}) and the {@code EVALSHA} calls Redis counted, per 1,000
 * connects over the measured iterations ({@code # fleet:} lines): the proof of how many connects
 * reach Redis. A {@code fleet} or {@code nearCap} trial fails if the coordinator fell back to its
 * local fallback cap or never got a permit from Redis.
 *
 * <p>It builds the agent's core itself, so the agent's classes must be on the class path (they
 * are not in the test-apps jar); no {@code -javaagent}, no profiler:
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar:agent/target/connguard-agent.jar \
 *      org.openjdk.jmh.Main FleetHookPathBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {})
public class FleetHookPathBenchmark {

    static final String HOST = "127.0.0.1";
    static final int PORT = 9;

    @Param({"local", "fleet", "nearCap"})
    public String mode;

    /** The local cap, {@code CONNGUARD_HOST_LIMITS}; never reached. */
    @Param({"64"})
    public int localLimit;

    /** The fleet-wide cap of {@code fleet}, {@code CONNGUARD_FLEET_LIMITS}; {@code nearCap} uses the thread count. */
    @Param({"1000"})
    public int fleetCap;

    private BenchRedis redis;
    private Governor governor;
    private FleetCoordinator coordinator;
    private HostState host;
    private int cap;
    private long connectsAtStart;
    private long syncsAtStart;
    private long evalshaAtStart;
    private long measuredConnects;
    private long measuredSyncs;
    private long measuredEvalsha;
    private long waitsAtStart;
    private long measuredWaits;
    private long iterationStartNanos;
    private long measuredNanos;

    @Setup(Level.Trial)
    public void start(BenchmarkParams params) throws Exception {
        try {
            Class.forName("io.connguard.agent.core.Governor");
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            throw new IllegalStateException("the agent's classes are not on the class path: run JMH with"
                    + " -cp test-apps/target/connguard-test-apps.jar:agent/target/connguard-agent.jar");
        }
        Map<String, String> env = new HashMap<>();
        env.put("CONNGUARD_HOST_LIMITS", HOST + ":" + PORT + "=" + localLimit);
        boolean fleet;
        switch (mode) {
            case "local":
                fleet = false;
                break;
            case "fleet":
                fleet = true;
                cap = fleetCap;
                break;
            case "nearCap":
                fleet = true;
                cap = params.getThreads();
                break;
            default:
                throw new IllegalArgumentException("mode must be local, fleet or nearCap, not '" + mode + "'");
        }
        if (fleet) {
            redis = BenchRedis.start();
            env.put("CONNGUARD_FLEET_REDIS", redis.url());
            env.put("CONNGUARD_FLEET_LIMITS", HOST + ":" + PORT + "=" + cap);
        }
        AgentConfig config = AgentConfig.load(env, new Properties());
        // As AgentInstaller wires it (its listener and wait rules do nothing on this path: no wait, no leak).
        SlotStore store = new LocalSlotStore();
        if (fleet) {
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
                : "; redis-server pid " + redis.pid() + " on port " + redis.port())
                + "; threads " + params.getThreads());
    }

    @Setup(Level.Iteration)
    public void startIteration() throws Exception {
        connectsAtStart = host.connects();
        waitsAtStart = host.waits();
        iterationStartNanos = System.nanoTime();
        syncsAtStart = coordinator == null ? 0 : coordinator.syncCount();
        evalshaAtStart = redis == null ? 0 : redis.evalshaCalls();
    }

    @TearDown(Level.Iteration)
    public void endIteration(IterationParams iteration) throws Exception {
        if (iteration.getType() != IterationType.MEASUREMENT) {
            return;
        }
        measuredNanos += System.nanoTime() - iterationStartNanos;
        measuredConnects += host.connects() - connectsAtStart;
        measuredWaits += host.waits() - waitsAtStart;
        if (coordinator != null) {
            measuredSyncs += coordinator.syncCount() - syncsAtStart;
            measuredEvalsha += redis.evalshaCalls() - evalshaAtStart;
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        try {
            if (host.open() != 0) {
                throw new IllegalStateException(host.open() + " connections left open: the benchmark leaked slots");
            }
            if (coordinator != null) {
                FleetHost f = host.fleet();
                String state = String.format(Locale.ROOT, "fleet cap %d, permits held %d, fleet in use %d, grants %d,"
                                + " fallbacks %d, last exchange %.0f µs", f.cap(), f.allowance(), f.fleetInUse(),
                        f.grants(), coordinator.fallbackCount(), f.lastExchangeNanos() / 1e3);
                System.out.println(String.format(Locale.ROOT, "# fleet: %,d connects measured, %,d of them waited for a"
                                + " permit; %,d Redis exchanges (syncCount), %,d EVALSHA calls seen by Redis: %.3g"
                                + " exchanges per 1000 connects, %,.0f per second; %s", measuredConnects, measuredWaits,
                        measuredSyncs, measuredEvalsha,
                        measuredConnects == 0 ? Double.NaN : measuredSyncs * 1000.0 / measuredConnects,
                        measuredSyncs / measuredSeconds(), state));
                if (coordinator.fallbackCount() > 0 || !f.fleetMode() || f.grants() == 0) {
                    throw new IllegalStateException("this fork did not run in fleet mode throughout (" + state
                            + "): not a fleet measurement");
                }
            } else {
                System.out.println(String.format(Locale.ROOT, "# local: %,d connects measured, %,d of them waited",
                        measuredConnects, measuredWaits));
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

    private double measuredSeconds() {
        return Math.max(1e-9, measuredNanos / 1e9);
    }

    @Benchmark
    @Threads(1)
    public Object connectClose() {
        return connectCloseOnce();
    }

    @Benchmark
    @Threads(4)
    public Object connectClose4Threads() {
        return connectCloseOnce();
    }

    private Object connectCloseOnce() {
        Object connection = new Object();
        Object decision = governor.beforeConnect(connection, HOST, PORT, 0, true);
        if (decision != Governor.ACQUIRED && !(decision instanceof Integer)) {
            throw new IllegalStateException("connect refused: " + decision); // a wait, a timeout or an error: never expected
        }
        governor.closed(connection);
        return decision;
    }
}

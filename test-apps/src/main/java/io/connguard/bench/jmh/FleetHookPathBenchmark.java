package io.connguard.bench.jmh;

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

import java.util.concurrent.TimeUnit;

/**
 * The policy core's connect+close path with a fleet-wide cap, without the network and without
 * class rewriting: {@code Governor.beforeConnect} then {@code Governor.closed} on a connection
 * object that is never really connected, on a {@code Governor} built the way the agent builds it
 * ({@link FleetCore}: settings read by {@code AgentConfig}, a {@code LocalSlotStore}, and for a
 * fleet a {@code FleetSlotStore} with a {@code FleetCoordinator} over a {@code RedisFleetBackend}).
 * {@code mode}:
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
 * One and four threads on one destination. Each trial prints how many connects were measured, how
 * many waited for a permit, the Redis exchanges ({@code FleetCoordinator.syncCount()}) and the
 * {@code EVALSHA} calls Redis counted, per 1,000 connects ({@code # fleet:} lines): the proof of
 * how many connects reach Redis. A {@code fleet} or {@code nearCap} trial fails if the coordinator
 * fell back to its local fallback cap or never got a permit from Redis.
 *
 * <p>No {@code -javaagent}, no profiler needed: the agent's classes come from the agent jar
 * ({@link AgentClasses}: {@code agent/target/connguard-agent.jar} relative to the working
 * directory, or the class path, or {@code -jvmArgsAppend -Dconnguard.agent.jar=<path>}).
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar org.openjdk.jmh.Main FleetHookPathBenchmark -f 2 \
 *      -prof io.connguard.bench.jmh.CpuPerOpProfiler -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {})
public class FleetHookPathBenchmark {

    @Param({"local", "fleet", "nearCap"})
    public String mode;

    /** The local cap, {@code CONNGUARD_HOST_LIMITS}; never reached. */
    @Param({"64"})
    public int localLimit;

    /** The fleet-wide cap of {@code fleet}, {@code CONNGUARD_FLEET_LIMITS}; {@code nearCap} uses the thread count. */
    @Param({"1000"})
    public int fleetCap;

    private FleetCorePath core;

    @Setup(Level.Trial)
    public void start(BenchmarkParams params) throws Exception {
        core = AgentClasses.newInstance(FleetCorePath.class.getPackageName() + ".FleetCore", FleetCorePath.class);
        core.start(mode, localLimit, fleetCap, params.getThreads());
    }

    @Setup(Level.Iteration)
    public void startIteration() throws Exception {
        core.iterationStarted();
    }

    @TearDown(Level.Iteration)
    public void endIteration(IterationParams iteration) throws Exception {
        if (iteration.getType() == IterationType.MEASUREMENT) {
            core.iterationEnded();
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        core.stop();
    }

    @Benchmark
    @Threads(1)
    public Object connectClose() {
        return core.connectClose();
    }

    @Benchmark
    @Threads(4)
    public Object connectClose4Threads() {
        return core.connectClose();
    }
}

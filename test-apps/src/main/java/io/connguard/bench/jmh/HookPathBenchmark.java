package io.connguard.bench.jmh;

import io.connguard.bootstrap.ConnGuardHooks;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The hook path alone, without the network: what rewritten {@code Socket.connect} and
 * {@code Socket.close} call, {@link ConnGuardHooks#beforeConnect} then {@link ConnGuardHooks#closed},
 * for a connection object that is never really connected. With the agent this is the whole
 * policy path (host lookup, slot, lease, release) under a limit that is never reached; without it,
 * the no-op default. The difference is the agent's cost per connection, free of the kernel's
 * noise that dominates {@link ConnectCloseBenchmark}.
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar org.openjdk.jmh.Main HookPathBenchmark \
 *      -prof io.connguard.bench.jmh.ConnGuardAgentProfiler
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(1)
public abstract class HookPathBenchmark {

    private InetSocketAddress endpoint;

    @Setup(Level.Trial)
    public void start() {
        AgentVariant.checkAtSetup();
        endpoint = new InetSocketAddress("127.0.0.1", 9);
    }

    @TearDown(Level.Trial)
    public void stop() {
        // Nothing to check in JMX: no connection is left open, and no Host MBean is needed.
    }

    @Benchmark
    public Object connectClose() {
        Object connection = new Object();
        Object decision = ConnGuardHooks.beforeConnect(connection, endpoint, 0, true);
        ConnGuardHooks.closed(connection);
        return decision;
    }

    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class WithAgent extends HookPathBenchmark {
    }

    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITHOUT_AGENT})
    public static class WithoutAgent extends HookPathBenchmark {
    }
}

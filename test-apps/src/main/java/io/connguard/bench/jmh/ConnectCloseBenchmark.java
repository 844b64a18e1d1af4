package io.connguard.bench.jmh;

import io.connguard.bench.Loopback;
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

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * One outgoing loopback connect + close, with {@code new Socket()} and with
 * {@code SocketChannel.open(addr)}, against a server socket in the same JVM whose only thread
 * accepts and closes. Accepted sockets are not governed, so the difference between
 * {@link WithAgent} and {@link WithoutAgent} is the agent's cost on the client's connect and close
 * path (hook, slot acquire and release, tracking of the open connection), with a per-host limit
 * of 1000 that is never reached.
 *
 * <p>{@code close=rst} (the default) closes with {@code SO_LINGER} 0: the kernel sends a reset and
 * keeps no TIME_WAIT socket. With an orderly close ({@code -p close=fin}) every connection leaves a
 * TIME_WAIT socket for 60 s; after about 28,000 connections (the ephemeral port range) each connect
 * must search for a reusable port, and the run measures that kernel search (~70 µs/op here, drifting)
 * instead of the connect path. The agent's hooks are the same for both: it governs {@code close()},
 * not the TCP teardown.
 *
 * <p>Run both variants in one invocation from the project root (the profiler option attaches the
 * agent to the with-agent fork only):
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar org.openjdk.jmh.Main ConnectCloseBenchmark \
 *      -prof io.connguard.bench.jmh.ConnGuardAgentProfiler
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(1)
public abstract class ConnectCloseBenchmark {

    /** rst: SO_LINGER 0 (no TIME_WAIT, steady); fin: orderly close (TIME_WAIT, drifts as ports run out). */
    @Param({"rst"})
    public String close;

    private Loopback.AcceptCloseServer server;
    private InetSocketAddress endpoint;
    private boolean reset;

    @Setup(Level.Trial)
    public void start() throws IOException {
        AgentVariant.checkAtSetup();
        if (!close.equals("rst") && !close.equals("fin")) {
            throw new IllegalArgumentException("-p close=" + close + ": use rst or fin");
        }
        reset = close.equals("rst");
        server = new Loopback.AcceptCloseServer();
        endpoint = server.endpoint();
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException {
        try {
            AgentVariant.reportAtTearDown(1);
        } finally {
            server.close();
        }
    }

    @Benchmark
    public void socket() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(endpoint);
            if (reset) {
                s.setSoLinger(true, 0);
            }
        }
    }

    @Benchmark
    public void channel() throws IOException {
        try (SocketChannel ch = SocketChannel.open(endpoint)) {
            if (reset) {
                ch.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        }
    }

    /*
     * jvmArgs = {}: the forks do not inherit the JMH host JVM's options (JMH's default), so both
     * variants start from the same clean command line, and a -Dconnguard.agent.jar given to the host
     * does not reach the agent (which reports unknown connguard.* properties). Add options to both
     * variants with -jvmArgsPrepend; -jvmArgsAppend on the command line would replace the variant marker.
     */

    /** The agent attached by {@link ConnGuardAgentProfiler}; default limit 1000 per host, never reached. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class WithAgent extends ConnectCloseBenchmark {
    }

    /** The same JVM options, without the agent. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITHOUT_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class WithoutAgent extends ConnectCloseBenchmark {
    }
}

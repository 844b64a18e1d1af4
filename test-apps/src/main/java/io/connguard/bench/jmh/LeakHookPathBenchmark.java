package io.connguard.bench.jmh;

import io.connguard.bench.Loopback;
import io.connguard.bootstrap.ConnGuardHooks;
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
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/**
 * The leak-tracking hook path of one pooled keep-alive request, without the network: the calls
 * the rewritten pool code makes for one request, in its order, on a real connected (and tracked)
 * socket, with stand-in pool objects of the clients' shape (the agent finds their methods by name,
 * as it does on relocated copies). With the agent this is the whole per-request work of pool
 * awareness and leak tracking (hand-out check, borrow record and its reference, stack per
 * {@code CONNGUARD_LEAK_STACKS}, activity times, return, idle mark); without it, the no-op defaults.
 * The difference is the agent's cost per request, free of the kernel and of the neighbours' noise
 * that dominates {@link LeakTrackingBenchmark} on a small machine.
 *
 * <ul>
 * <li>{@code apache4}: {@code AbstractConnPool.getPoolEntryBlocking} (taken, borrowed; key = the
 *     pool entry), two socket stream reads/writes, {@code release(entry, true)} (idle, returned).</li>
 * <li>{@code okhttp}: {@code RealCall.acquireConnectionNoEvents} (taken, borrowed; key and handle =
 *     a new call object per request, so a phantom reference per request), two reads/writes,
 *     {@code releaseConnectionNoEvents} (released), {@code connectionBecameIdle} (idle, returned).</li>
 * </ul>
 *
 * A stack is as costly as it is deep: the hooks run {@code depth} frames below the benchmark
 * method, about as deep as a real client's borrow is (see the frame counts that
 * {@link LeakTrackingBenchmark} prints).
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar org.openjdk.jmh.Main LeakHookPathBenchmark \
 *      -prof io.connguard.bench.jmh.ConnGuardAgentProfiler
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(1)
public abstract class LeakHookPathBenchmark {

    @Param({"apache4", "okhttp"})
    public String client;

    /**
     * Extra frames between the benchmark method and the hooks: 20 makes the captured stack about
     * as deep as a real client's borrow under JMH (24 to 32 frames shown, plus the agent's own);
     * {@code -p depth=100} stands for an application with a deep stack (a web framework's).
     */
    @Param({"20"})
    public int depth;

    private Loopback.AcceptCloseServer server;
    private Socket socket;
    private ApacheEntry entry;
    private Object pool;
    private OkConnection okConnection;
    private boolean apache;

    @Setup(Level.Trial)
    public void start() throws IOException {
        AgentVariant.checkAtSetup();
        server = new Loopback.AcceptCloseServer();
        socket = new Socket();
        socket.connect(server.endpoint()); // with the agent: a tracked connection, as a pool's would be
        entry = new ApacheEntry(new ApacheConnection(socket));
        pool = new Object();
        okConnection = new OkConnection(socket);
        apache = client.equals("apache4");
        if (!apache && !client.equals("okhttp")) {
            throw new IllegalArgumentException("client must be apache4 or okhttp, not '" + client + "'");
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        try {
            if (AgentVariant.expectAgent()) {
                AgentVariant.checkLeakSettings();
                checkBorrowTracked();
            }
            AgentVariant.reportAtTearDown(1);
        } finally {
            socket.close();
            server.close();
        }
    }

    @Benchmark
    public Object request() {
        return below(depth);
    }

    private Object below(int n) {
        if (n > 0) {
            return below(n - 1);
        }
        return apache ? apache4() : okhttp();
    }

    private Object apache4() {
        ConnGuardHooks.pooledTaken(ConnGuardHooks.CLIENT_APACHE4, entry);
        ConnGuardHooks.pooledBorrowed(ConnGuardHooks.CLIENT_APACHE4, entry, pool, null);
        ConnGuardHooks.activity(socket); // the request written
        ConnGuardHooks.activity(socket); // the response read
        Object token = ConnGuardHooks.pooledIdle(ConnGuardHooks.CLIENT_APACHE4, entry);
        ConnGuardHooks.pooledReturned(token);
        return token;
    }

    private Object okhttp() {
        Object call = new Object(); // a new RealCall per request; the agent holds it weakly and phantom-reachably
        ConnGuardHooks.pooledTaken(ConnGuardHooks.CLIENT_OKHTTP, okConnection);
        ConnGuardHooks.pooledBorrowed(ConnGuardHooks.CLIENT_OKHTTP, call, okConnection, call);
        ConnGuardHooks.activity(socket);
        ConnGuardHooks.activity(socket);
        ConnGuardHooks.pooledReleased(ConnGuardHooks.CLIENT_OKHTTP, call);
        Object token = ConnGuardHooks.pooledIdle(ConnGuardHooks.CLIENT_OKHTTP, okConnection);
        ConnGuardHooks.pooledReturned(token);
        return token;
    }

    /**
     * Borrows once more and finds the borrow in the agent's open connections, as this client's:
     * proof that the agent saw inside the stand-in objects and did the whole work (had it not, it
     * would have logged "cannot see inside a connection pool" and measured next to nothing).
     */
    private void checkBorrowTracked() throws Exception {
        Object call = new Object();
        String expected;
        String[] open;
        if (apache) {
            expected = "Apache HttpClient 4";
            ConnGuardHooks.pooledTaken(ConnGuardHooks.CLIENT_APACHE4, entry);
            ConnGuardHooks.pooledBorrowed(ConnGuardHooks.CLIENT_APACHE4, entry, pool, null);
            open = (String[]) AgentVariant.agentOperation("listOpenConnections");
            ConnGuardHooks.pooledReturned(ConnGuardHooks.pooledIdle(ConnGuardHooks.CLIENT_APACHE4, entry));
        } else {
            expected = "OkHttp";
            ConnGuardHooks.pooledTaken(ConnGuardHooks.CLIENT_OKHTTP, okConnection);
            ConnGuardHooks.pooledBorrowed(ConnGuardHooks.CLIENT_OKHTTP, call, okConnection, call);
            open = (String[]) AgentVariant.agentOperation("listOpenConnections");
            ConnGuardHooks.pooledReleased(ConnGuardHooks.CLIENT_OKHTTP, call);
            ConnGuardHooks.pooledReturned(ConnGuardHooks.pooledIdle(ConnGuardHooks.CLIENT_OKHTTP, okConnection));
        }
        for (String line : open) {
            if (line.contains(" client=" + expected + " ")) {
                int frames = AgentVariant.stackFrames(line);
                System.out.println("# borrow tracked: " + line.split("\n", 2)[0]
                        + (frames > 0 ? " (with a stack of " + frames + " frames)" : ""));
                return;
            }
        }
        throw new IllegalStateException("the agent lists no connection lent out by " + expected
                + ", so these hooks did not do the borrow tracking: " + String.join(" | ", open));
    }

    /** Apache HttpClient 4's pool entry: {@code getConnection()}. */
    public static final class ApacheEntry {
        private final ApacheConnection connection;

        ApacheEntry(ApacheConnection connection) {
            this.connection = connection;
        }

        public ApacheConnection getConnection() {
            return connection;
        }
    }

    /** Apache HttpClient 4's managed connection: {@code getSocket()}. */
    public static final class ApacheConnection {
        private final Socket socket;

        ApacheConnection(Socket socket) {
            this.socket = socket;
        }

        public Socket getSocket() {
            return socket;
        }
    }

    /** OkHttp's {@code RealConnection}: {@code socket()}. */
    public static final class OkConnection {
        private final Socket socket;

        OkConnection(Socket socket) {
            this.socket = socket;
        }

        public Socket socket() {
            return socket;
        }
    }

    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITHOUT_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class WithoutAgent extends LeakHookPathBenchmark {
    }

    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000",
            "-Dconnguard.leak.stacks=off"})
    public static class StacksOff extends LeakHookPathBenchmark {
    }

    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000",
            "-Dconnguard.leak.stacks=sampled"})
    public static class StacksSampled extends LeakHookPathBenchmark {
    }

    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000",
            "-Dconnguard.leak.stacks=all"})
    public static class StacksAll extends LeakHookPathBenchmark {
    }

    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000",
            "-Dconnguard.leak.threshold=off"})
    public static class ThresholdOff extends LeakHookPathBenchmark {
    }
}

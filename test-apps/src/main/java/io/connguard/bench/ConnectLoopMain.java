package io.connguard.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.Set;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Child JVM of {@link ProcessBench}: connects to and closes a loopback server socket in this JVM
 * (accepts and closes, not governed) in a loop, and prints {@code ops_per_sec=<n>} for the
 * measured part, and {@code thread_cpu_us_per_op=<n>}: CPU time of the connecting thread per op.
 *
 * <pre>java [-javaagent:connguard-agent.jar] -cp connguard-test-apps.jar io.connguard.bench.ConnectLoopMain
 *      [--iterations 20000] [--warmup 5000] [--kind socket|channel] [--close rst|fin] [--port P] [--agent-stats]</pre>
 *
 * {@code --close rst} (default) sets {@code SO_LINGER} 0 before closing, so no TIME_WAIT socket is
 * left behind; {@code fin} closes normally, and once about 28,000 TIME_WAIT sockets exist (they
 * live 60 s, also across runs) every connect pays for a kernel search for a reusable port.
 *
 * <p>{@code --port P} connects to an accept-and-close server that is already listening on
 * 127.0.0.1:P (another process's, {@link FleetBench}'s, so that its port can be named in the
 * agent's settings) instead of starting one here. {@code --agent-stats} prints, after the loop,
 * what the agent's JMX says (connects governed, fleet exchanges, fallbacks) as {@code agent_*=}
 * lines, or {@code agent=none} without the agent.
 */
public final class ConnectLoopMain {

    private ConnectLoopMain() {
    }

    public static void main(String[] argv) throws IOException {
        BenchArgs args = new BenchArgs(argv, Set.of("--iterations", "--warmup", "--kind", "--close", "--port"),
                Set.of("--agent-stats"));
        int iterations = args.integer("--iterations", 20_000);
        int warmup = args.integer("--warmup", 5_000);
        String kind = args.string("--kind", "socket");
        if (!kind.equals("socket") && !kind.equals("channel")) {
            throw new IllegalArgumentException("--kind must be socket or channel, got '" + kind + "'");
        }
        boolean channel = kind.equals("channel");
        String close = args.string("--close", "rst");
        if (!close.equals("rst") && !close.equals("fin")) {
            throw new IllegalArgumentException("--close must be rst or fin, got '" + close + "'");
        }
        boolean reset = close.equals("rst");
        int port = args.integer("--port", 0);
        try (Loopback.AcceptCloseServer server = port > 0 ? null : new Loopback.AcceptCloseServer()) {
            InetSocketAddress endpoint = server != null ? server.endpoint() : new InetSocketAddress(Loopback.address(), port);
            ThreadMXBean threads = ManagementFactory.getThreadMXBean(); // loaded before the measured part
            loop(endpoint, warmup, channel, reset);
            long cpu0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            loop(endpoint, iterations, channel, reset);
            long nanos = System.nanoTime() - t0;
            long cpu = threads.getCurrentThreadCpuTime() - cpu0;
            double opsPerSec = iterations / (nanos / 1e9);
            System.out.printf("kind=%s close=%s iterations=%d warmup=%d seconds=%.3f%n", kind, close, iterations, warmup,
                    nanos / 1e9);
            System.out.printf("ops_per_sec=%.1f%n", opsPerSec);
            // CPU time (user + system) of the connecting thread: less disturbed by scheduling than wall clock
            System.out.printf("thread_cpu_us_per_op=%.3f%n", cpu / 1e3 / iterations);
            if (args.flag("--agent-stats")) {
                printAgentStats();
            }
        }
    }

    /** The agent's own counters, from its MBean (registered lazily, on the agent's thread: waited for up to 10 s). */
    private static void printAgentStats() {
        try {
            Class<?> hooks = Class.forName("io.connguard.bootstrap.ConnGuardHooks", false, null);
            if (!(Boolean) hooks.getMethod("isInstalled").invoke(null)) {
                System.out.println("agent=none");
                return;
            }
        } catch (ClassNotFoundException e) {
            System.out.println("agent=none");
            return;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName agent = new ObjectName("io.connguard:type=Agent");
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!server.isRegistered(agent) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            System.out.println("agent_connects=" + server.getAttribute(agent, "Connects"));
            System.out.println("agent_fleet_store=" + server.getAttribute(agent, "FleetStore"));
            System.out.println("agent_fleet_exchanges=" + server.getAttribute(agent, "FleetExchanges"));
            System.out.println("agent_fleet_fallbacks=" + server.getAttribute(agent, "FleetFallbacks"));
            System.out.println("agent_fleet_store_down=" + server.getAttribute(agent, "FleetStoreDown"));
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the agent's MBean: " + e, e);
        }
    }

    private static void loop(InetSocketAddress endpoint, int n, boolean channel, boolean reset) throws IOException {
        for (int i = 0; i < n; i++) {
            if (channel) {
                try (SocketChannel ch = SocketChannel.open(endpoint)) {
                    if (reset) {
                        ch.setOption(StandardSocketOptions.SO_LINGER, 0);
                    }
                }
            } else {
                try (Socket s = new Socket()) {
                    s.connect(endpoint);
                    if (reset) {
                        s.setSoLinger(true, 0);
                    }
                }
            }
        }
    }
}

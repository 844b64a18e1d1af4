package io.connguard.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.Set;

/**
 * Child JVM of {@link ProcessBench}: connects to and closes a loopback server socket in this JVM
 * (accepts and closes, not governed) in a loop, and prints {@code ops_per_sec=<n>} for the
 * measured part, and {@code thread_cpu_us_per_op=<n>}: CPU time of the connecting thread per op.
 *
 * <pre>java [-javaagent:connguard-agent.jar] -cp connguard-test-apps.jar io.connguard.bench.ConnectLoopMain
 *      [--iterations 20000] [--warmup 5000] [--kind socket|channel]</pre>
 */
public final class ConnectLoopMain {

    private ConnectLoopMain() {
    }

    public static void main(String[] argv) throws IOException {
        BenchArgs args = new BenchArgs(argv, Set.of("--iterations", "--warmup", "--kind"), Set.of());
        int iterations = args.integer("--iterations", 20_000);
        int warmup = args.integer("--warmup", 5_000);
        String kind = args.string("--kind", "socket");
        if (!kind.equals("socket") && !kind.equals("channel")) {
            throw new IllegalArgumentException("--kind must be socket or channel, got '" + kind + "'");
        }
        boolean channel = kind.equals("channel");
        try (Loopback.AcceptCloseServer server = new Loopback.AcceptCloseServer()) {
            InetSocketAddress endpoint = server.endpoint();
            ThreadMXBean threads = ManagementFactory.getThreadMXBean(); // loaded before the measured part
            loop(endpoint, warmup, channel);
            long cpu0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            loop(endpoint, iterations, channel);
            long nanos = System.nanoTime() - t0;
            long cpu = threads.getCurrentThreadCpuTime() - cpu0;
            double opsPerSec = iterations / (nanos / 1e9);
            System.out.printf("kind=%s iterations=%d warmup=%d seconds=%.3f%n", kind, iterations, warmup, nanos / 1e9);
            System.out.printf("ops_per_sec=%.1f%n", opsPerSec);
            // CPU time (user + system) of the connecting thread: less disturbed by scheduling than wall clock
            System.out.printf("thread_cpu_us_per_op=%.3f%n", cpu / 1e3 / iterations);
        }
    }

    private static void loop(InetSocketAddress endpoint, int n, boolean channel) throws IOException {
        for (int i = 0; i < n; i++) {
            if (channel) {
                SocketChannel.open(endpoint).close();
            } else {
                try (Socket s = new Socket()) {
                    s.connect(endpoint);
                }
            }
        }
    }
}

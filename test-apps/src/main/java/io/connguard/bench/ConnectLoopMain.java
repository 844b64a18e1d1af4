package io.connguard.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.Set;

/**
 * Child JVM of {@link ProcessBench}: connects to and closes a loopback server socket in this JVM
 * (accepts and closes, not governed) in a loop, and prints {@code ops_per_sec=<n>} for the
 * measured part, and {@code thread_cpu_us_per_op=<n>}: CPU time of the connecting thread per op.
 *
 * <pre>java [-javaagent:connguard-agent.jar] -cp connguard-test-apps.jar io.connguard.bench.ConnectLoopMain
 *      [--iterations 20000] [--warmup 5000] [--kind socket|channel] [--close rst|fin]</pre>
 *
 * {@code --close rst} (default) sets {@code SO_LINGER} 0 before closing, so no TIME_WAIT socket is
 * left behind; {@code fin} closes normally, and once about 28,000 TIME_WAIT sockets exist (they
 * live 60 s, also across runs) every connect pays for a kernel search for a reusable port.
 */
public final class ConnectLoopMain {

    private ConnectLoopMain() {
    }

    public static void main(String[] argv) throws IOException {
        BenchArgs args = new BenchArgs(argv, Set.of("--iterations", "--warmup", "--kind", "--close"), Set.of());
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
        try (Loopback.AcceptCloseServer server = new Loopback.AcceptCloseServer()) {
            InetSocketAddress endpoint = server.endpoint();
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

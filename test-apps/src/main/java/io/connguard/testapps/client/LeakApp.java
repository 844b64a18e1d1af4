package io.connguard.testapps.client;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.connguard.testapps.common.Args;

/**
 * Leaks {@code --count} connected sockets (dropped without {@code close()}), then tries to open as
 * many new ones from other threads while it calls {@code System.gc()} in a loop. Run with a limit of
 * {@code --count} for the host, the new connects can only succeed once ConnGuard has noticed the
 * leaked sockets became garbage and given their slots back.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.LeakApp \
 *      --host 127.0.0.1 --port PORT --count 3 [--gc-seconds 10] [--jmx]
 * </pre>
 * Prints {@code LEAKED count=<n>}, {@code REOPENED ok=<n> failed=<n> pending=<n>}, any
 * {@code REOPENFAIL <reason>} lines, {@code LEAKFDS left=<n>} (socket descriptors still held over
 * the start), the JMX lines with {@code --jmx}, and finally {@code LEAKAPP done}. With
 * {@code --channels} it leaks {@code SocketChannel}s, whose descriptors the JDK never closes.
 */
public final class LeakApp {

    static final String USAGE = "LeakApp --host 127.0.0.1 --port PORT --count N [--gc-seconds 10] [--jmx] [--channels]";

    private LeakApp() {
    }

    public static void main(String[] argv) throws Exception {
        InetSocketAddress address;
        int count;
        int gcSeconds;
        boolean jmx;
        boolean channels;
        try {
            Args args = Args.parse(argv, Set.of("host", "port", "count", "gc-seconds"), Set.of("jmx", "channels"));
            address = new InetSocketAddress(args.required("host"), args.requiredInteger("port", 1, 65535));
            count = args.requiredInteger("count", 1, 1000);
            gcSeconds = args.integer("gc-seconds", 10, 1, 600);
            jmx = args.flag("jmx");
            channels = args.flag("channels");
        } catch (Args.UsageException e) {
            Args.exitWithUsage("LeakApp", USAGE, e);
            return;
        }

        // One connection made and closed first, so that whatever the JDK opens once for good on
        // first network use (it differs between JDK 17 and 25) is in the baseline.
        try (SocketChannel warmUp = SocketChannel.open(address); Socket warmUpSocket = new Socket()) {
            warmUpSocket.connect(address, 10_000);
        }
        int descriptorsBefore = socketDescriptors();
        leak(address, count, channels);
        System.out.println("LEAKED count=" + count);
        System.out.flush();

        AtomicInteger ok = new AtomicInteger();
        List<String> failures = new CopyOnWriteArrayList<>();
        List<Socket> reopened = new CopyOnWriteArrayList<>();
        for (int i = 0; i < count; i++) {
            Thread t = new Thread(() -> {
                Socket socket = new Socket();
                try {
                    socket.connect(address);
                    reopened.add(socket);
                    ok.incrementAndGet();
                } catch (Throwable e) {
                    failures.add(LoadRun.describe(e));
                    closeQuietly(socket);
                }
            }, "reopen-" + i);
            t.setDaemon(true);
            t.start();
        }

        long deadline = System.nanoTime() + gcSeconds * 1_000_000_000L;
        while (ok.get() + failures.size() < count && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(100);
        }
        int pending = count - ok.get() - failures.size();
        System.out.println("REOPENED ok=" + ok.get() + " failed=" + failures.size() + " pending=" + pending);
        for (String failure : failures) {
            System.out.println("REOPENFAIL " + failure);
        }
        for (Socket socket : reopened) {
            closeQuietly(socket);
        }
        // Leaked sockets are closed by the JDK's own cleaner when collected; leaked channels only
        // by ConnGuard. What is left over the baseline is what leaked for good.
        System.out.println("LEAKFDS left=" + (socketDescriptors() - descriptorsBefore));
        if (jmx) {
            JmxDump.print(System.out, 2_000);
        }
        System.out.println("LEAKAPP done");
        System.out.flush();
        System.exit(0);
    }

    /** Connects {@code count} sockets and forgets them: no close, no reference left behind. */
    private static void leak(InetSocketAddress address, int count, boolean channels) throws Exception {
        for (int i = 0; i < count; i++) {
            if (channels) {
                SocketChannel channel = SocketChannel.open(address); // LEAKSITE: dropped, never closed
                channel = null;
            } else {
                Socket socket = new Socket();
                socket.connect(address, 10_000); // LEAKSITE: dropped, never closed
                socket = null;
            }
        }
    }

    /** Socket descriptors this process holds (Linux /proc), -1 where that cannot be read. */
    static int socketDescriptors() {
        File[] fds = new File("/proc/self/fd").listFiles();
        if (fds == null) {
            return -1;
        }
        int n = 0;
        for (File fd : fds) {
            try {
                if (Files.readSymbolicLink(fd.toPath()).toString().startsWith("socket:")) {
                    n++;
                }
            } catch (Exception ignored) {
                // gone meanwhile
            }
        }
        return n;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (Exception ignored) {
            // nothing to do
        }
    }
}

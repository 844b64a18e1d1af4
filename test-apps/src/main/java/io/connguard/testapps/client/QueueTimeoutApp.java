package io.connguard.testapps.client;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import io.connguard.testapps.common.Args;

/**
 * Holds one connection to a host and, from a second thread, tries another one. Run with a limit of
 * 1 for that host and a short queue timeout, the second connect must fail with ConnGuard's
 * {@code ConnectionLimitException}.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.QueueTimeoutApp \
 *      --host 127.0.0.1 --port PORT [--connect-timeout-ms 0] [--max-wait-ms 60000]
 * </pre>
 * Prints {@code FIRST connected}, then either {@code EXCEPTION class=<fqcn> message=<one line>} or
 * {@code CONNECTED}, then {@code ISCONNECTEXCEPTION=<true|false>} and {@code WAITEDMS=<n>}.
 * {@code --connect-timeout-ms} is the second connect's own timeout (0 = none, the default, so only
 * ConnGuard's queue timeout applies); {@code --max-wait-ms} bounds the whole wait; {@code --hold-ms}
 * keeps both connections open that long after the result lines.
 */
public final class QueueTimeoutApp {

    static final String USAGE = "QueueTimeoutApp --host 127.0.0.1 --port PORT [--connect-timeout-ms 0] [--max-wait-ms 60000]"
            + " [--hold-ms 0]";

    private QueueTimeoutApp() {
    }

    public static void main(String[] argv) throws Exception {
        InetSocketAddress address;
        int connectTimeoutMs;
        int maxWaitMs;
        int holdMs;
        try {
            Args args = Args.parse(argv, Set.of("host", "port", "connect-timeout-ms", "max-wait-ms", "hold-ms"), Set.of());
            address = new InetSocketAddress(args.required("host"), args.requiredInteger("port", 1, 65535));
            connectTimeoutMs = args.integer("connect-timeout-ms", 0, 0, Integer.MAX_VALUE);
            maxWaitMs = args.integer("max-wait-ms", 60_000, 1, Integer.MAX_VALUE);
            holdMs = args.integer("hold-ms", 0, 0, 120_000);
        } catch (Args.UsageException e) {
            Args.exitWithUsage("QueueTimeoutApp", USAGE, e);
            return;
        }

        try (Socket first = new Socket()) {
            first.connect(address, 10_000);
            System.out.println("FIRST connected");
            System.out.flush();

            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicReference<Socket> second = new AtomicReference<>();
            long start = System.nanoTime();
            Thread contender = new Thread(() -> {
                Socket socket = new Socket();
                try {
                    socket.connect(address, connectTimeoutMs);
                    second.set(socket);
                } catch (Throwable t) {
                    failure.set(t);
                    closeQuietly(socket);
                }
            }, "second-connect");
            contender.setDaemon(true);
            contender.start();
            contender.join(maxWaitMs);
            long waitedMs = (System.nanoTime() - start) / 1_000_000;

            Throwable t = failure.get();
            if (contender.isAlive()) {
                System.out.println("STILLWAITING after=" + maxWaitMs + "ms");
            } else if (t != null) {
                System.out.println("EXCEPTION class=" + t.getClass().getName() + " message=" + oneLine(t.getMessage()));
            } else {
                System.out.println("CONNECTED");
            }
            System.out.println("ISCONNECTEXCEPTION=" + (t instanceof ConnectException));
            System.out.println("WAITEDMS=" + waitedMs);
            System.out.flush();
            if (holdMs > 0) {
                Thread.sleep(holdMs); // keep both connections open, e.g. for a JMX client to look
            }
            closeQuietly(second.get());
        }
        System.out.flush();
        System.exit(0);
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.replace('\r', ' ').replace('\n', ' ');
    }

    private static void closeQuietly(Socket socket) {
        if (socket != null) {
            try {
                socket.close();
            } catch (Exception ignored) {
                // nothing to do
            }
        }
    }
}

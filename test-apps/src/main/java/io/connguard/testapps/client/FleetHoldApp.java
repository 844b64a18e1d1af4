package io.connguard.testapps.client;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import io.connguard.testapps.common.Args;

/**
 * Opens {@code --count} plain TCP connections to {@code 127.0.0.1:--port}, one after another, and
 * holds them open, sending nothing, until the JVM is killed (or {@code --hold-ms} has passed).
 * Each connect waits at most {@code --connect-timeout-ms} (with the agent, the wait for a slot is
 * part of it); a connect that fails is reported and not retried.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.FleetHoldApp --port P [--count 4] \
 *      [--connect-timeout-ms 20000] [--hold-ms 600000]
 * </pre>
 * Prints {@code STARTED atMs=<epoch ms>}, then {@code OPENED i atMs=<epoch ms> waitedMs=n} for each
 * connection (i from 1), or {@code FAILED i atMs=<epoch ms> waitedMs=n <exception class>: <its whole message>}, then
 * {@code HOLDING n} with the number of connections it holds.
 */
public final class FleetHoldApp {

    static final String USAGE = "FleetHoldApp --port P [--count 4] [--connect-timeout-ms 20000] [--hold-ms 600000]";

    private FleetHoldApp() {
    }

    public static void main(String[] argv) throws Exception {
        int port;
        int count;
        int connectTimeoutMs;
        int holdMs;
        try {
            Args args = Args.parse(argv, Set.of("port", "count", "connect-timeout-ms", "hold-ms"), Set.of());
            port = args.requiredInteger("port", 1, 65535);
            count = args.integer("count", 4, 0, 1000);
            connectTimeoutMs = args.integer("connect-timeout-ms", 20_000, 0, Integer.MAX_VALUE);
            holdMs = args.integer("hold-ms", 600_000, 0, Integer.MAX_VALUE);
        } catch (Args.UsageException e) {
            Args.exitWithUsage("FleetHoldApp", USAGE, e);
            return;
        }
        System.out.println("STARTED atMs=" + System.currentTimeMillis());
        System.out.flush();
        List<Socket> held = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            long before = System.nanoTime();
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress("127.0.0.1", port), connectTimeoutMs);
                held.add(socket);
                System.out.println("OPENED " + i + " atMs=" + System.currentTimeMillis() + " waitedMs="
                        + (System.nanoTime() - before) / 1_000_000);
            } catch (Exception e) {
                socket.close();
                System.out.println("FAILED " + i + " atMs=" + System.currentTimeMillis() + " waitedMs="
                        + (System.nanoTime() - before) / 1_000_000 + " " + e.getClass().getName() + ": "
                        + String.valueOf(e.getMessage()).replaceAll("\\s+", " "));
            }
            System.out.flush();
        }
        System.out.println("HOLDING " + held.size());
        System.out.flush();
        Thread.sleep(holdMs);
        for (Socket socket : held) {
            socket.close();
        }
        System.out.println("CLOSED " + held.size());
        System.out.flush();
    }
}

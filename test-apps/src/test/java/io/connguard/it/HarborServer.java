package io.connguard.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import io.connguard.testapps.server.HarborLikeServer;
import io.connguard.testapps.server.ServerAdmin;

/**
 * The {@link HarborLikeServer} of one test class, in its own JVM (JDK 17, never with the agent).
 * Started before all tests of the class, emptied and reset before each, killed by PID after all.
 * When a test fails, prints the server's counters and the tail of its logs.
 * Register as {@code @RegisterExtension static final HarborServer SERVER = new HarborServer(8, 40);}.
 */
final class HarborServer implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, TestWatcher {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final int cap;
    private final int delayMs;
    private final boolean tls;
    private final String role;
    private JvmProcess process;
    private int port;
    private ServerAdmin admin;
    private int adminPort;

    HarborServer(int cap, int delayMs) {
        this(cap, delayMs, false);
    }

    /** With {@code tls}, the server speaks HTTPS with a certificate from {@link TlsMaterial}. */
    HarborServer(int cap, int delayMs, boolean tls) {
        this(cap, delayMs, tls, "");
    }

    /** {@code role} tells the logs of two servers of one class with the same cap and delay apart. */
    HarborServer(int cap, int delayMs, boolean tls, String role) {
        this.cap = cap;
        this.delayMs = delayMs;
        this.tls = tls;
        this.role = role;
    }

    int port() {
        return port;
    }

    int cap() {
        return cap;
    }

    String url() {
        return (tls ? "https" : "http") + "://127.0.0.1:" + port + "/v2/library/app/blobs/sha256:4a5b6c7d8e9f";
    }

    /** The URL of the refusing endpoint {@code /refuse/<id>?<query>} (see RefusingHandler). */
    String refuseUrl(String id, String query) {
        return (tls ? "https" : "http") + "://127.0.0.1:" + port + "/refuse/" + id + (query.isEmpty() ? "" : "?" + query);
    }

    /** What {@code /refuse/<id>} has seen so far: requests, those with an Authorization header, methods, arrival times. */
    record RefuseStats(int count, int auth, List<String> methods, List<Long> atMs) {
    }

    /** Reads {@code /refuse-stats/<id>} from the admin port (a fresh connection, closed after). */
    RefuseStats refuseStats(String id) {
        String line;
        try {
            HttpURLConnection connection = (HttpURLConnection) new URL("http://127.0.0.1:" + adminPort
                    + "/refuse-stats/" + id).openConnection();
            connection.setConnectTimeout(5_000);
            connection.setReadTimeout(5_000);
            connection.setUseCaches(false);
            try (InputStream in = connection.getInputStream()) {
                line = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            } finally {
                connection.disconnect();
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read the server's /refuse-stats/" + id + ": " + e + "\n" + process.diagnostics(20), e);
        }
        Map<String, String> values = AppOutput.keyValues(line);
        List<String> methods = values.getOrDefault("methods", "").isEmpty() ? List.of()
                : List.of(values.get("methods").split(","));
        List<Long> at = values.getOrDefault("atMs", "").isEmpty() ? List.of()
                : Arrays.stream(values.get("atMs").split(",")).map(Long::valueOf).collect(Collectors.toList());
        return new RefuseStats(Integer.parseInt(values.get("count")), Integer.parseInt(values.get("auth")), methods, at);
    }

    /** open, peak, connections, served, refused, rawpeak (see HarborLikeServer). */
    Map<String, Long> stats() {
        try {
            return admin.stats();
        } catch (IOException e) {
            throw new AssertionError("cannot read the server's /stats: " + e + "\n" + process.diagnostics(20), e);
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        // One class may have several servers (ClientContract): the name tells their logs apart.
        String name = context.getRequiredTestClass().getSimpleName() + "-server" + (role.isEmpty() ? "" : "-" + role)
                + "-cap" + cap + "-delay" + delayMs;
        Object[] args = {"--port", 0, "--admin-port", 0, "--cap", cap, "--delay-ms", delayMs};
        if (tls) {
            args = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of(
                    "--tls-keystore", TlsMaterial.keyStore(), "--tls-password", TlsMaterial.PASSWORD)).toArray();
        }
        process = JvmProcess.builder(name).jdk(Runtime.version().feature()).main(HarborLikeServer.class)
                .args(args)
                .start();
        try {
            Map<String, String> listening = awaitListening();
            port = Integer.parseInt(listening.get("port"));
            adminPort = Integer.parseInt(listening.get("admin"));
            admin = new ServerAdmin(adminPort);
        } catch (Throwable t) {
            process.kill();
            throw t;
        }
    }

    private Map<String, String> awaitListening() throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (String line : process.stdoutLines()) {
                if (line.startsWith("LISTENING ")) {
                    return AppOutput.keyValues(line.substring("LISTENING ".length()));
                }
            }
            if (!process.isAlive()) {
                throw new AssertionError("the server exited before listening\n" + process.diagnostics(40));
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the server printed no LISTENING line in " + START_TIMEOUT + "\n" + process.diagnostics(40));
    }

    /**
     * Within one test: waits (bounded) until exactly {@code stillOpen} connections are open, then
     * zeroes the counters (peak, refused, ...).
     */
    void resetStats(int stillOpen) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
        while (admin.stats().get("open") != stillOpen) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + stillOpen + " open connections on the server: " + admin.stats());
            }
            Thread.sleep(20);
        }
        admin.reset();
    }

    /** Waits until the previous test's connections are gone, then zeroes the counters. */
    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (!process.isAlive()) {
            throw new AssertionError("the server died\n" + process.diagnostics(40));
        }
        if (!admin.awaitIdle(15_000)) {
            throw new AssertionError("connections from an earlier test are still open on the server: " + admin.stats());
        }
        admin.reset();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (process != null) {
            process.kill();
        }
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        String stats;
        try {
            stats = admin == null ? "not started" : admin.stats().toString();
        } catch (IOException e) {
            stats = "unavailable: " + e;
        }
        System.err.println("\n##### server (cap " + cap + ", delay " + delayMs + " ms) after the failed test: " + stats + "\n"
                + (process == null ? "" : process.diagnostics(20)));
    }
}

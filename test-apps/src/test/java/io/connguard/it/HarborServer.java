package io.connguard.it;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;

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
    private JvmProcess process;
    private int port;
    private ServerAdmin admin;

    HarborServer(int cap, int delayMs) {
        this(cap, delayMs, false);
    }

    /** With {@code tls}, the server speaks HTTPS with a certificate from {@link TlsMaterial}. */
    HarborServer(int cap, int delayMs, boolean tls) {
        this.cap = cap;
        this.delayMs = delayMs;
        this.tls = tls;
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
        String name = context.getRequiredTestClass().getSimpleName() + "-server";
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
            admin = new ServerAdmin(Integer.parseInt(listening.get("admin")));
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

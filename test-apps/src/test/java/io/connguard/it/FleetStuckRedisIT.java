package io.connguard.it;

import static io.connguard.it.LateAttachIT.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.client.FleetStormApp;

/**
 * A {@code CONNGUARD_FLEET_REDIS} that takes the agent's connection and never answers it in full
 * (issue 14 item 5): the fleet-capped host must go on at {@code CONNGUARD_FLEET_FALLBACK_LIMIT}
 * within the fleet's call bound (2 s) plus a margin, with a queue timeout of 30 s so that an agent
 * that waits for its store fails the test. Two stuck stores, both plain {@link ServerSocket}s on
 * loopback:
 * <ul>
 *   <li>{@code silent}: accepts and never writes a byte. The Redis client's 500 ms reply timeout
 *       already ends each call; this guards that path.</li>
 *   <li>{@code dribbling}: accepts and answers the first command with a reply that never ends, one
 *       byte every 200 ms ({@code +xxxx...} without the CRLF): no read ever waits 500 ms, so no
 *       socket timeout fires and only the watchdog ends the wait. Before the watchdog this JVM
 *       waited the whole queue timeout for its first request (and failed every request after
 *       30 s).</li>
 * </ul>
 * The server under the cap never sees more than the fallback cap, every request succeeds, and the
 * fallback line names the store that did not answer.
 */
class FleetStuckRedisIT {

    static final int CAP = 8;
    static final int FALLBACK = 2;
    static final int THREADS = 8;
    static final int REQUESTS = 5;
    /** The fleet's call bound (AgentInstaller.FLEET_CALL_BOUND_MILLIS). */
    static final long BOUND_MS = 2_000;
    /** Loading the Redis client, JVM start-up noise on a shared machine. */
    static final long MARGIN_MS = 2_500;

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"silent", "dribbling"})
    void aRedisThatNeverAnswersFallsBackWithinTheBound(String kind, @TempDir Path dir) throws Exception {
        try (StuckRedis redis = new StuckRedis(kind.equals("dribbling"))) {
            Path go = dir.resolve("go");
            JvmProcess p = jvms.java(17).agent()
                    .env("CONNGUARD_FLEET_REDIS", "redis://127.0.0.1:" + redis.port())
                    .env("CONNGUARD_FLEET_LIMITS", "127.0.0.1:" + SERVER.port() + "=" + CAP)
                    .env("CONNGUARD_FLEET_FALLBACK_LIMIT", String.valueOf(FALLBACK))
                    .env("CONNGUARD_QUEUE_TIMEOUT", "30s")
                    .main(FleetStormApp.class).args("--url", SERVER.url(), "--go-file", go, "--kind", "socket",
                            "--threads", THREADS, "--requests", REQUESTS, "--progress-ms", 50, "--deadline-ms", 90_000,
                            "--warm-up")
                    .start();
            await(p, () -> p.stdoutLines().stream().anyMatch(l -> l.startsWith("READY ")), "READY of " + p.name());
            Files.createFile(go);
            AppOutput out = new AppOutput(p, p.awaitExit(Duration.ofSeconds(120)));
            Map<String, Long> stats = SERVER.stats();

            assertThat(out.exitCode()).as("exit code of %s", p.name()).isZero();
            assertThat(out.failed()).as("failed requests in %s\nserver %s", out.describe(), stats).isZero();
            assertThat(out.ok()).as("successful requests in %s", out.describe()).isEqualTo((long) THREADS * REQUESTS);
            assertThat(stats.get("peak")).as("server peak under a fallback cap of %s (stats %s)", FALLBACK, stats)
                    .isBetween(1L, (long) FALLBACK);
            assertThat(stats.get("refused")).as("server refusals (stats %s)", stats).isZero();
            long goAt = goAt(p);
            long firstOkAt = firstOkAt(p);
            assertThat(firstOkAt - goAt).as("ms from go to the first successful request with a %s Redis (bound %s ms"
                    + " + margin %s ms)\n%s", kind, BOUND_MS, MARGIN_MS, out.describe()).isLessThan(BOUND_MS + MARGIN_MS);
            List<String> fallback = p.stderrLines().stream().filter(l -> l.contains("fleet store") && l.contains("cannot be reached"))
                    .collect(Collectors.toList());
            assertThat(fallback).as("fallback lines on stderr of %s:\n%s", p.name(), p.stderr()).hasSize(1);
            assertThat(fallback.get(0)).contains("127.0.0.1:" + redis.port()).contains("CONNGUARD_FLEET_FALLBACK_LIMIT");
            assertThat(redis.accepted()).as("connections the stuck Redis took").isPositive();
            System.out.println("FleetStuckRedisIT " + kind + ": first request after " + (firstOkAt - goAt)
                    + " ms, server " + stats + ", stuck Redis took " + redis.accepted() + " connections; "
                    + fallback.get(0));
        }
    }

    /** When the storm began (epoch ms), from the {@code GO atMs=} line. */
    private static long goAt(JvmProcess p) {
        return p.stdoutLines().stream().filter(l -> l.startsWith("GO "))
                .map(l -> Long.parseLong(AppOutput.keyValues(l.substring("GO ".length())).get("atMs"))).findFirst()
                .orElseThrow(() -> new AssertionError("no GO line:\n" + p.diagnostics(30)));
    }

    /** When the first PROGRESS line with ok &gt; 0 was printed (epoch ms), or a failure. */
    private static long firstOkAt(JvmProcess p) {
        for (String line : p.stdoutLines()) {
            if (line.startsWith("PROGRESS ")) {
                Map<String, String> values = AppOutput.keyValues(line.substring("PROGRESS ".length()));
                if (Long.parseLong(values.get("ok")) > 0) {
                    return Long.parseLong(values.get("atMs"));
                }
            }
        }
        throw new AssertionError("no request succeeded:\n" + p.diagnostics(30));
    }

    /** A "Redis" on loopback that takes every connection and never answers it in full. */
    private static final class StuckRedis implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<Socket> taken = new CopyOnWriteArrayList<>();
        private final AtomicInteger accepted = new AtomicInteger();
        private final boolean dribble;
        private volatile boolean open = true;

        StuckRedis(boolean dribble) throws IOException {
            this.dribble = dribble;
            Thread t = new Thread(this::accept, "stuck-redis");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        private void accept() {
            while (open) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    taken.add(s);
                    if (dribble) {
                        Thread t = new Thread(() -> dribble(s), "stuck-redis-dribble");
                        t.setDaemon(true);
                        t.start();
                    }
                } catch (IOException e) {
                    return;
                }
            }
        }

        /** Waits for the first bytes of a command, then a simple-string reply that never ends. */
        private void dribble(Socket s) {
            try {
                if (s.getInputStream().read() < 0) {
                    return;
                }
                OutputStream out = s.getOutputStream();
                out.write("+".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                while (open) {
                    Thread.sleep(200);
                    out.write('x');
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the agent gave up the connection, or the test is over
            }
        }

        @Override
        public void close() throws IOException {
            open = false;
            server.close();
            for (Socket s : taken) {
                s.close();
            }
        }
    }
}

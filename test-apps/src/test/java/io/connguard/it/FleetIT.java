package io.connguard.it;

import static io.connguard.it.LateAttachIT.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.client.FleetHoldApp;
import io.connguard.testapps.client.FleetStormApp;
import io.connguard.testapps.client.LoadClient;

/**
 * Fleet mode ({@code CONNGUARD_FLEET_REDIS}, {@code CONNGUARD_FLEET_LIMITS}) against a real Redis
 * ({@link RedisServer}, a private {@code redis-server} on loopback) and the Harbor-like server
 * capped at 8 open connections, with several client JVMs started together:
 * <ul>
 *   <li>four JVMs, each capped at 8 on its own and at 8 for the whole fleet, storm the server at the
 *       same instant: no request fails and the server never sees more than 8; the same four JVMs
 *       with only their own caps of 8 overwhelm it (so the fleet cap is what held), and so do they
 *       without the agent (so the rig cannot pass without ConnGuard); on JDK 17 and 25, with the
 *       Redis password in the URL and never in any output;</li>
 *   <li>a JVM holding every permit of a fleet cap of 4: a JVM with a 1 s queue timeout gets the
 *       {@code ConnectionLimitException} naming the fleet-wide limit; then the holder is killed with
 *       {@code kill -9} and the JVM waiting for the permits (its {@code status} fleet row says 4 in
 *       use, none here) gets them within the lease (3 s) plus a margin, never with more than 4 open
 *       at the server;</li>
 *   <li>Redis stopped (or frozen with SIGSTOP) in the middle of a storm of three JVMs: each falls
 *       back to its local fallback cap of 2 with one warning, no request fails (3 x 2 &lt;= 8),
 *       requests keep completing during the outage, and each says once, within seconds, that the
 *       store is back; the server's open connections, sampled every 5 ms, are named per phase in
 *       every failure message and kept in {@code target/it-logs/FleetIT-outage-*-server-open.csv};</li>
 *   <li>a {@code CONNGUARD_FLEET_REDIS} that is not a Redis URL is one line on stderr and the JVM
 *       runs on, governed by its local caps.</li>
 * </ul>
 * Which run proves what: the per-JVM-only run is the control that makes the fleet run mean
 * something (local caps alone do not protect the server); the run without the agent shows the
 * with-agent assertions fail with the agent detached; with a no-op agent
 * ({@code -Dit.agent.jar=...}) every with-agent test here fails too (the storm overwhelms the
 * server, the waiting JVM opens at once, no fallback line is logged).
 */
class FleetIT {

    static final int CAP = 8;
    /** Never to appear in any output of any JVM. */
    static final String PASSWORD = "Fl33t-pw-Zq7vR2xK";

    static final int MEMBERS = 4;
    static final int THREADS = 16;
    static final int REQUESTS = 10;
    /** The client kind of each member of the storm: fresh sockets, and one keep-alive pool. */
    static final String[] KINDS = {"socket", "socket", "socket", "urlconnection"};

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    // ---- 1. the fleet cap holds across JVMs ----

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void fleetCapHoldsAcrossJvmsWhilePerJvmCapsAloneDoNot(int jdk, @TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            redis.requirePass(PASSWORD);
            try {
                fleetCapRuns(jdk, dir, redis);
            } finally {
                redis.keepLog("FleetIT-cap-jdk" + jdk + "-redis");
            }
        }
    }

    private void fleetCapRuns(int jdk, Path dir, RedisServer redis) throws Exception {
        String fleet = fleetName("cap" + jdk);
        Map<String, String> fleetEnv = new LinkedHashMap<>();
        fleetEnv.put("CONNGUARD_HOST_LIMITS", hostLimit(CAP));
        fleetEnv.put("CONNGUARD_FLEET_REDIS", redis.urlWithPassword());
        fleetEnv.put("CONNGUARD_FLEET_LIMITS", hostLimit(CAP));
        fleetEnv.put("CONNGUARD_FLEET_NAME", fleet);

        List<AppOutput> governed = storm(jdk, true, fleetEnv, dir.resolve("go-fleet"));
        Map<String, Long> fleetStats = SERVER.stats();
        for (AppOutput out : governed) {
            assertThat(out.exitCode()).as("exit code of %s", out.process().name()).isZero();
            assertThat(out.failed()).as("failed requests in %s (fleet cap %s)\nserver %s", out.describe(), CAP, fleetStats)
                    .isZero();
            assertThat(out.ok()).as("successful requests in %s", out.describe()).isEqualTo((long) THREADS * REQUESTS);
        }
        assertThat(fleetStats.get("refused")).as("server refusals with the fleet cap (stats %s)", fleetStats).isZero();
        assertThat(fleetStats.get("peak")).as("server peak with the fleet cap (stats %s)", fleetStats)
                .isBetween(1L, (long) CAP);
        assertThat(fleetStats.get("served")).as("requests served (stats %s)", fleetStats)
                .isEqualTo((long) MEMBERS * THREADS * REQUESTS);
        assertNoPassword(governed);
        assertFleetMBeans(governed);
        // Fair across JVMs: they share the cap, so they end close together; a JVM that hogged the
        // permits would end long before the others (or one starved long after).
        long fastest = governed.stream().mapToLong(o -> Long.parseLong(o.result().get("elapsedMs"))).min().orElse(0);
        long slowest = governed.stream().mapToLong(o -> Long.parseLong(o.result().get("elapsedMs"))).max().orElse(0);
        assertThat(fastest * 2).as("the fastest member (%s ms) took at least half as long as the slowest (%s ms)", fastest, slowest)
                .isGreaterThanOrEqualTo(slowest);
        System.out.println("FleetIT jdk" + jdk + " fleet run: server " + fleetStats + ", members took "
                + governed.stream().map(o -> o.result().get("kind") + " " + o.result().get("elapsedMs") + " ms")
                .collect(Collectors.joining(", ")));

        // The same JVMs, each with its own cap of 8 only: 4 x 8 connections overwhelm the server.
        SERVER.resetStats(0);
        Map<String, String> localEnv = Map.of("CONNGUARD_HOST_LIMITS", hostLimit(CAP));
        List<AppOutput> local = storm(jdk, true, localEnv, dir.resolve("go-local"));
        assertOverwhelmed(local, "only per-JVM caps of " + CAP);

        if (jdk == 17) {
            // And without the agent at all: the with-agent assertions above fail with it detached.
            SERVER.resetStats(0);
            List<AppOutput> bare = storm(jdk, false, Map.of(), dir.resolve("go-bare"));
            assertOverwhelmed(bare, "no agent");
        }
    }

    // ---- 2. kill -9: permits come back within the lease ----

    @Test
    void permitsOfAJvmKilledWithSigkillComeBackWithinTheLease() throws Exception {
        int fleetCap = 4;
        long leaseMs = 3_000;
        try (RedisServer redis = RedisServer.start()) {
            String fleet = fleetName("kill");
            JvmProcess holder = jvms.java(17).agent()
                    .env("CONNGUARD_FLEET_REDIS", redis.url())
                    .env("CONNGUARD_FLEET_LIMITS", hostLimit(fleetCap))
                    .env("CONNGUARD_FLEET_NAME", fleet)
                    .env("CONNGUARD_FLEET_LEASE", "3s")
                    .main(FleetHoldApp.class).args("--port", SERVER.port(), "--count", fleetCap, "--connect-timeout-ms", 20_000)
                    .start();
            await(holder, () -> holder.stdoutLines().stream().anyMatch(l -> l.startsWith("HOLDING ")), "the holder's connections");
            assertThat(holder.stdoutLines()).as("the holder opened its %s connections", fleetCap)
                    .contains("HOLDING " + fleetCap).noneMatch(l -> l.startsWith("FAILED "));
            SERVER.resetStats(fleetCap);

            // A JVM that will not wait long gets the agent's ConnectionLimitException naming the fleet cap.
            JvmProcess impatient = jvms.java(17).agent()
                    .env("CONNGUARD_FLEET_REDIS", redis.url())
                    .env("CONNGUARD_FLEET_LIMITS", hostLimit(fleetCap))
                    .env("CONNGUARD_FLEET_NAME", fleet)
                    .env("CONNGUARD_FLEET_LEASE", "3s")
                    .env("CONNGUARD_QUEUE_TIMEOUT", "1s")
                    .main(FleetHoldApp.class).args("--port", SERVER.port(), "--count", 1, "--connect-timeout-ms", 20_000,
                            "--hold-ms", 0)
                    .start();
            await(impatient, () -> impatient.stdoutLines().stream().anyMatch(l -> l.startsWith("HOLDING ")),
                    "the impatient JVM's connect to give up");
            String failed = impatient.stdoutLines().stream().filter(l -> l.startsWith("FAILED 1 ")).findFirst()
                    .orElseThrow(() -> new AssertionError("the impatient JVM's connect did not fail: " + impatient.stdoutLines()));
            assertThat(failed).as("the impatient JVM's connect").contains("io.connguard.ConnectionLimitException")
                    .contains("fleet-wide limit is " + fleetCap).contains("CONNGUARD_FLEET_LIMITS");
            assertThat(Long.parseLong(AppOutput.keyValues(failed).get("waitedMs"))).as("waited the queue timeout: %s", failed)
                    .isBetween(900L, 10_000L);
            impatient.awaitExit(Duration.ofSeconds(30));
            assertThat(SERVER.stats().get("rawpeak")).as("server connections while the impatient JVM tried")
                    .isEqualTo(fleetCap);

            JvmProcess waiter = jvms.java(17).agent()
                    .env("CONNGUARD_FLEET_REDIS", redis.url())
                    .env("CONNGUARD_FLEET_LIMITS", hostLimit(fleetCap))
                    .env("CONNGUARD_FLEET_NAME", fleet)
                    .env("CONNGUARD_FLEET_LEASE", "3s")
                    .env("CONNGUARD_QUEUE_TIMEOUT", "15s")
                    .main(FleetHoldApp.class).args("--port", SERVER.port(), "--count", fleetCap, "--connect-timeout-ms", 20_000)
                    .start();
            await(waiter, () -> waiter.stdoutLines().stream().anyMatch(l -> l.startsWith("STARTED ")), "the waiter to start");
            // Give the waiter time to ask the fleet and find every permit taken.
            long maxOpen = watchServer(Duration.ofMillis(2_000));
            assertThat(waiter.stdoutLines()).as("the waiter got no connection while the holder held the fleet's %s: %s",
                    fleetCap, waiter.stdoutLines()).noneMatch(l -> l.startsWith("OPENED ") || l.startsWith("FAILED "));
            assertThat(maxOpen).as("server open connections while both run").isEqualTo(fleetCap);
            // status shows the waiter's side of it: the fleet cap, fleet mode, no permit here, the fleet's 4 in use.
            AgentCli status = AgentCli.run(Duration.ofSeconds(60), "status", waiter.pid());
            assertThat(status.exitCode).as("%s", status).isZero();
            assertThat(status.stdout).as("%s", status).doesNotContain(PASSWORD);
            if (status.stdout.contains("FLEET LIMIT")) {
                Map<String, String> fleetRow = fleetRow(status, "127.0.0.1:" + SERVER.port());
                assertThat(fleetRow).as("fleet row of the waiter: %s", status)
                        .containsEntry("FLEET LIMIT", String.valueOf(fleetCap)).containsEntry("MODE", "fleet")
                        .containsEntry("PERMITS HERE", "0").containsEntry("IN USE HERE", "0")
                        .containsEntry("FLEET IN USE", String.valueOf(fleetCap));
                if (fleetRow.containsKey("FALLBACKS")) {
                    assertThat(fleetRow.get("FALLBACKS")).as("fallbacks: %s", status).isEqualTo("0");
                }
            }
            assertThat(waiter.stdoutLines()).as("the waiter still waits").noneMatch(l -> l.startsWith("OPENED "));

            long killedAt = System.currentTimeMillis();
            Process kill = new ProcessBuilder("kill", "-9", String.valueOf(holder.pid())).redirectErrorStream(true).start();
            assertThat(kill.waitFor(5, TimeUnit.SECONDS)).isTrue();
            assertThat(kill.exitValue()).as("kill -9 %s", holder.pid()).isZero();

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            long maxOpenAfter = 0;
            while (waiter.stdoutLines().stream().noneMatch(l -> l.startsWith("HOLDING ")) && System.nanoTime() < deadline
                    && waiter.isAlive()) {
                maxOpenAfter = Math.max(maxOpenAfter, SERVER.stats().get("open"));
                Thread.sleep(20);
            }
            List<String> lines = waiter.stdoutLines();
            assertThat(lines).as("the waiter's output").contains("HOLDING " + fleetCap).noneMatch(l -> l.startsWith("FAILED "));
            List<Long> openedAt = lines.stream().filter(l -> l.startsWith("OPENED "))
                    .map(l -> Long.parseLong(AppOutput.keyValues(l).get("atMs"))).collect(Collectors.toList());
            assertThat(openedAt).hasSize(fleetCap);
            assertThat(openedAt.get(0)).as("first connection of the waiter vs the kill at %s", killedAt)
                    .isGreaterThanOrEqualTo(killedAt);
            long lastAfterKill = openedAt.get(fleetCap - 1) - killedAt;
            assertThat(lastAfterKill).as("ms from kill -9 until the waiter held all %s (lease %s ms)", fleetCap, leaseMs)
                    .isLessThan(leaseMs + 4_000);
            Map<String, Long> stats = SERVER.stats();
            assertThat(Math.max(maxOpenAfter, stats.get("rawpeak"))).as("most connections open at the server (stats %s)", stats)
                    .isLessThanOrEqualTo(fleetCap);
            assertThat(stats.get("open")).as("server open at the end (stats %s)", stats).isEqualTo(fleetCap);
            System.out.println("FleetIT kill -9: the waiter held all " + fleetCap + " connections " + lastAfterKill
                    + " ms after the kill (lease " + leaseMs + " ms); server " + stats);
            waiter.kill();
        }
    }

    /** The control of the kill test: without the agent the second JVM does not wait for anything. */
    @Test
    void withoutTheAgentTheSecondJvmOpensAtOnce() throws Exception {
        JvmProcess holder = jvms.java(17).main(FleetHoldApp.class).args("--port", SERVER.port(), "--count", 4).start();
        await(holder, () -> holder.stdoutLines().contains("HOLDING 4"), "the holder's connections");
        JvmProcess waiter = jvms.java(17).main(FleetHoldApp.class).args("--port", SERVER.port(), "--count", 4).start();
        await(waiter, () -> waiter.stdoutLines().contains("HOLDING 4"), "the second JVM's connections");
        await(waiter, () -> SERVER.stats().get("open") == 8L, "the server to see 8 open connections: " + SERVER.stats());
        holder.kill();
        waiter.kill();
    }

    // ---- 3. Redis goes away in the middle of a storm ----

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"stop", "pause"})
    void redisOutageFallsBackToTheLocalCapAndRecovers(String outage, @TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            redis.requirePass(PASSWORD);
            try {
                outageRun(outage, dir, redis);
            } finally {
                redis.keepLog("FleetIT-outage-" + outage + "-redis");
            }
        }
    }

    private void outageRun(String outage, Path dir, RedisServer redis) throws Exception {
        int members = 3;
        int fallback = 2;
        long runMs = 10_000;
        String url = "redis://default:" + PASSWORD + "@127.0.0.1:" + redis.port();
        String fleet = fleetName("outage-" + outage);
        Path go = dir.resolve("go");
        List<JvmProcess> started = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            started.add(jvms.java(17).agent()
                    .env("CONNGUARD_HOST_LIMITS", hostLimit(CAP))
                    .env("CONNGUARD_FLEET_REDIS", url)
                    .env("CONNGUARD_FLEET_LIMITS", hostLimit(CAP))
                    .env("CONNGUARD_FLEET_NAME", fleet)
                    .env("CONNGUARD_FLEET_FALLBACK_LIMIT", String.valueOf(fallback))
                    .main(FleetStormApp.class).args("--url", SERVER.url(), "--go-file", go, "--kind", "socket",
                            "--threads", THREADS, "--duration-ms", runMs, "--progress-ms", 200, "--deadline-ms", 60_000,
                            "--jmx", "--warm-up")
                    .start());
        }
        for (JvmProcess p : started) {
            await(p, () -> p.stdoutLines().stream().anyMatch(l -> l.startsWith("READY ")), "READY of " + p.name());
        }
        OpenSampler sampler = new OpenSampler();
        sampler.start();
        Files.createFile(go);
        long goAt = System.currentTimeMillis();
        for (JvmProcess p : started) {
            await(p, () -> okAt(p, Long.MAX_VALUE) > 0, "the first requests of " + p.name());
        }
        sleepUntil(goAt + 3_000);
        long downAt = System.currentTimeMillis();
        if (outage.equals("stop")) {
            redis.stop();
        } else {
            redis.pause();
        }
        sleepUntil(downAt + 3_000);
        long backAt = System.currentTimeMillis();
        if (outage.equals("stop")) {
            redis.restart();
        } else {
            redis.resume();
        }
        List<AppOutput> outs = new ArrayList<>();
        for (JvmProcess p : started) {
            outs.add(new AppOutput(p, p.awaitExit(Duration.ofSeconds(60))));
        }
        sampler.stop();
        sampler.write(Artifacts.logDir().resolve("FleetIT-outage-" + outage + "-server-open.csv"), goAt, downAt, backAt);
        Map<String, Long> stats = SERVER.stats();
        String phases = "most connections open at the server, sampled: before the outage " + sampler.max(goAt, downAt)
                + ", in its first 500 ms " + sampler.max(downAt, downAt + 500) + ", later in it " + sampler.max(downAt + 500, backAt)
                + ", in the 1.5 s after Redis came back " + sampler.max(backAt, backAt + 1_500) + ", after that "
                + sampler.max(backAt + 1_500, Long.MAX_VALUE);
        StringBuilder summary = new StringBuilder("FleetIT Redis " + outage + " at +" + (downAt - goAt) + " ms, back at +"
                + (backAt - goAt) + " ms; server " + stats + "; " + phases);
        for (AppOutput out : outs) {
            String name = out.process().name();
            assertThat(out.exitCode()).as("exit code of %s", name).isZero();
            assertThat(out.failed()).as("failed requests in %s (fallback %s x %s JVMs <= cap %s)\nserver %s; %s",
                    out.describe(), fallback, members, CAP, stats, phases).isZero();
            assertThat(Long.parseLong(out.result().get("maxRequestMs"))).as("slowest request of %s", out.describe())
                    .isLessThan(5_000L);
            List<String> down = out.stderrLines().stream().filter(l -> l.contains("cannot be reached"))
                    .collect(Collectors.toList());
            List<String> back = out.stderrLines().stream().filter(l -> l.contains("fleet store") && l.contains("is back")
                    && !l.contains("cannot be reached")).collect(Collectors.toList());
            assertThat(down).as("'cannot be reached' warnings of %s", name).hasSize(1);
            assertThat(down.get(0)).contains("fleet store").contains("CONNGUARD_FLEET_FALLBACK_LIMIT");
            assertThat(back).as("'is back' lines of %s", name).hasSize(1);
            assertThat(out.stderrLines().indexOf(back.get(0))).as("the store is back after it was gone, in %s", name)
                    .isGreaterThan(out.stderrLines().indexOf(down.get(0)));
            logTime(down.get(0)).ifPresent(t -> assertThat(t.toEpochMilli())
                    .as("the warning (%s) comes after Redis went away at %s", down.get(0), downAt).isGreaterThanOrEqualTo(downAt));
            logTime(back.get(0)).ifPresent(t -> assertThat(t.toEpochMilli())
                    .as("the recovery (%s) comes after Redis came back at %s, within the probe interval (1 s), the"
                            + " rejoin window (1.5 s) and a margin", back.get(0), backAt).isBetween(backAt, backAt + 4_500));
            long duringOutage = okAt(out.process(), backAt) - okAt(out.process(), downAt + 1_000);
            assertThat(duringOutage).as("requests of %s completed in the outage (from 1 s after it began until its end)", name)
                    .isGreaterThanOrEqualTo(10L);
            long afterBack = okAt(out.process(), Long.MAX_VALUE) - okAt(out.process(), backAt + 1_000);
            assertThat(afterBack).as("requests of %s completed after Redis came back", name).isPositive();
            summary.append("\n  ").append(name).append(": ").append(out.result()).append(", ").append(duringOutage)
                    .append(" ok in the outage; ").append(down.get(0)).append(" | ").append(back.get(0));
            out.hostMBean(SERVER.port()).filter(m -> m.containsKey("FleetMode")).ifPresent(m -> assertThat(m)
                    .as("fleet attributes after the recovery").containsEntry("FleetMode", "fleet")
                    .containsEntry("FleetLimit", String.valueOf(CAP)).containsEntry("FleetFallbacks", "1"));
        }
        assertThat(stats.get("refused")).as("server refusals (stats %s; %s)", stats, phases).isZero();
        assertThat(stats.get("peak")).as("server peak (stats %s; %s)", stats, phases).isBetween(1L, (long) CAP);
        // When Redis comes back the fleet holds at most 3 x 2 fallback connections; re-claiming them
        // keeps it at 6, and new connects may only fill it up to the cap. The server counts a closed
        // connection until it has processed the FIN, hence the 2 of slack; the samples before the
        // outage show what that slack is for. More means new connects were admitted above the cap
        // while other JVMs' fallback connections were not yet known to the store.
        assertThat(sampler.max(backAt, backAt + 1_500))
                .as("most connections open at the server in the 1.5 s after Redis came back (%s)", phases)
                .isLessThanOrEqualTo(CAP + 2L);
        assertNoPassword(outs);
        System.out.println(summary);
    }

    /** Polls the server's open count every few ms from the test JVM (no agent here), with the time of each sample. */
    private static final class OpenSampler {
        private final List<long[]> samples = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile boolean running = true;
        private final Thread thread = new Thread(this::run, "open-sampler");

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            while (running) {
                try {
                    samples.add(new long[] {System.currentTimeMillis(), SERVER.stats().get("open")});
                    Thread.sleep(5);
                } catch (Throwable e) {
                    return;
                }
            }
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(5_000);
        }

        /** The samples as "ms after go,open" lines, with the outage's start and end as comments, for a look after a failure. */
        void write(Path file, long goAt, long downAt, long backAt) {
            StringBuilder sb = new StringBuilder("# ms after go, connections open at the server; Redis went away at "
                    + (downAt - goAt) + " ms and came back at " + (backAt - goAt) + " ms\n");
            samples.forEach(s -> sb.append(s[0] - goAt).append(',').append(s[1]).append('\n'));
            try {
                Files.createDirectories(file.getParent());
                Files.writeString(file, sb);
            } catch (java.io.IOException e) {
                System.err.println("FleetIT: cannot write " + file + ": " + e);
            }
        }

        /** The highest sample in [fromMs, toMs), or -1 without one. */
        long max(long fromMs, long toMs) {
            return samples.stream().filter(s -> s[0] >= fromMs && s[0] < toMs).mapToLong(s -> s[1]).max().orElse(-1);
        }
    }

    // ---- 5. a bad CONNGUARD_FLEET_REDIS ----

    static Stream<Arguments> badFleetRedisUrls() {
        return Stream.of(Arguments.of("http", "http://x"),
                Arguments.of("http-with-password", "http://admin:" + PASSWORD + "@127.0.0.1:6379"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFleetRedisUrls")
    void aFleetRedisThatIsNotARedisUrlIsOneLineAndTheJvmRunsOnGovernedLocally(String label, String value) {
        AppOutput out = jvms.run(jvms.java(17).agent()
                .env("CONNGUARD_HOST_LIMITS", Storm.HOST_LIMITS)
                .env("CONNGUARD_FLEET_REDIS", value)
                .env("CONNGUARD_FLEET_LIMITS", hostLimit(CAP))
                .main(LoadClient.class).args(Storm.loadArgs(SERVER, "socket", true)));

        List<String> errors = out.stderrLines().stream().filter(l -> l.contains("connguard: CONNGUARD_FLEET_REDIS"))
                .collect(Collectors.toList());
        assertThat(errors).as("lines about CONNGUARD_FLEET_REDIS on stderr of %s:\n%s", out.process().name(),
                out.process().stderr()).hasSize(1);
        assertThat(errors.get(0)).as("what is accepted").contains("redis://").contains("rediss://");
        assertThat(out.stderrLines()).noneMatch(l -> l.startsWith("\tat "));
        assertNoPassword(List.of(out));
        Storm.assertGoverned(out, SERVER);
        out.hostMBean(SERVER.port()).filter(m -> m.containsKey("FleetMode"))
                .ifPresent(m -> assertThat(m).as("fleet mode is off").containsEntry("FleetMode", "none"));
    }

    // ---- helpers ----

    /** Starts one member per kind of {@link #KINDS}, waits until each is READY, starts them together. */
    private List<AppOutput> storm(int jdk, boolean agent, Map<String, String> env, Path goFile) throws Exception {
        List<JvmProcess> started = new ArrayList<>();
        for (String kind : KINDS) {
            JvmProcess.Builder builder = jvms.java(jdk).agent(agent);
            env.forEach(builder::env);
            started.add(builder.main(FleetStormApp.class).args("--url", SERVER.url(), "--go-file", goFile, "--kind", kind,
                    "--threads", THREADS, "--requests", REQUESTS, "--deadline-ms", 90_000, "--jmx", "--warm-up").start());
        }
        for (JvmProcess p : started) {
            await(p, () -> p.stdoutLines().stream().anyMatch(l -> l.startsWith("READY ")), "READY of " + p.name());
        }
        Files.createFile(goFile);
        List<AppOutput> outs = new ArrayList<>();
        for (JvmProcess p : started) {
            outs.add(new AppOutput(p, p.awaitExit(Duration.ofSeconds(120))));
        }
        return outs;
    }

    private static void assertOverwhelmed(List<AppOutput> outs, String what) {
        Map<String, Long> stats = SERVER.stats();
        long failed = 0;
        long ok = 0;
        for (AppOutput out : outs) {
            assertThat(out.exitCode()).as("exit code of %s", out.process().name()).isZero();
            failed += out.failed();
            ok += out.ok();
        }
        assertThat(ok + failed).as("every request accounted for (%s)", what).isEqualTo((long) MEMBERS * THREADS * REQUESTS);
        assertThat(failed).as("failed requests with %s (server %s)", what, stats).isPositive();
        assertThat(stats.get("refused")).as("server refusals with %s (stats %s)", what, stats).isPositive();
        assertThat(stats.get("peak")).as("server peak with %s (stats %s)", what, stats).isGreaterThan((long) CAP);
        System.out.println("FleetIT " + what + ": " + failed + " of " + (ok + failed) + " requests failed; server " + stats);
    }

    /** The fleet attributes of the Host MBean, when the agent has them (nice to have, not the core assertion). */
    private static void assertFleetMBeans(List<AppOutput> outs) {
        for (AppOutput out : outs) {
            Map<String, String> host = out.hostMBean(SERVER.port()).orElseThrow(() -> new AssertionError(
                    "no Host MBean for 127.0.0.1:" + SERVER.port() + ": " + out.describe()));
            assertThat(host).as("Host MBean of %s", out.process().name()).containsEntry("Limit", String.valueOf(CAP))
                    .containsEntry("QueueTimeouts", "0");
            if (host.containsKey("FleetLimit")) {
                assertThat(host).as("fleet attributes of %s", out.process().name())
                        .containsEntry("FleetLimit", String.valueOf(CAP)).containsEntry("FleetMode", "fleet");
                assertThat(Long.parseLong(host.get("FleetPermitsHeld"))).as("FleetPermitsHeld %s", host).isBetween(0L, (long) CAP);
                assertThat(Long.parseLong(host.get("FleetInUse"))).as("FleetInUse %s", host).isBetween(0L, (long) CAP);
            }
        }
    }

    /**
     * The row of {@code host} in the fleet table of {@code status}, by column name: the header's
     * names are separated by two or more spaces (a name may have single spaces in it), the row's
     * values by whitespace.
     */
    private static Map<String, String> fleetRow(AgentCli status, String host) {
        List<String> lines = status.stdout.lines().collect(Collectors.toList());
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("HOST") && lines.get(i).contains("FLEET LIMIT")) {
                String[] names = lines.get(i).trim().split("\\s{2,}");
                for (String line : lines.subList(i + 1, lines.size())) {
                    if (line.startsWith(host + " ")) {
                        String[] values = line.trim().split("\\s+");
                        assertThat(values).as("fleet row %s under %s", line, lines.get(i)).hasSameSizeAs(names);
                        Map<String, String> row = new LinkedHashMap<>();
                        for (int c = 0; c < names.length; c++) {
                            row.put(names[c], values[c]);
                        }
                        return row;
                    }
                }
            }
        }
        throw new AssertionError("no fleet row for " + host + " in\n" + status);
    }

    /** No output line of any of these JVMs carries the Redis password. */
    private static void assertNoPassword(List<AppOutput> outs) {
        for (AppOutput out : outs) {
            assertThat(out.process().stdoutLines()).as("stdout of %s", out.process().name()).noneMatch(l -> l.contains(PASSWORD));
            assertThat(out.process().stderrLines()).as("stderr of %s", out.process().name()).noneMatch(l -> l.contains(PASSWORD));
        }
    }

    /** The ok count of the last PROGRESS line at or before {@code atMs} (0 before the first). */
    private static long okAt(JvmProcess p, long atMs) {
        long ok = 0;
        for (String line : p.stdoutLines()) {
            if (line.startsWith("PROGRESS ")) {
                Map<String, String> values = AppOutput.keyValues(line.substring("PROGRESS ".length()));
                if (Long.parseLong(values.get("atMs")) <= atMs) {
                    ok = Long.parseLong(values.get("ok"));
                }
            }
        }
        return ok;
    }

    /** The time stamp a text log line starts with ({@code 2026-11-22T01:11:29.685Z WARN ...}), if any. */
    private static Optional<Instant> logTime(String line) {
        int space = line.indexOf(' ');
        if (space <= 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(line.substring(0, space)));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** The most connections the server had open, polled for this long. */
    private static long watchServer(Duration duration) throws InterruptedException {
        long end = System.nanoTime() + duration.toNanos();
        long max = 0;
        while (System.nanoTime() < end) {
            max = Math.max(max, SERVER.stats().get("open"));
            Thread.sleep(20);
        }
        return Math.max(max, SERVER.stats().get("rawpeak"));
    }

    private static void sleepUntil(long epochMs) throws InterruptedException {
        long left = epochMs - System.currentTimeMillis();
        if (left > 0) {
            Thread.sleep(left);
        }
    }

    private static String hostLimit(int limit) {
        return "127.0.0.1:" + SERVER.port() + "=" + limit;
    }

    /** A fleet namespace of its own for each run, so no permit of an earlier run is ever in the way. */
    private static String fleetName(String what) {
        return "fleetit-" + what + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    }
}

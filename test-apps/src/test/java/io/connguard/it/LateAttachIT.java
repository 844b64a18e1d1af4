package io.connguard.it;

import io.connguard.testapps.client.LateAttachApp;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code java -jar connguard-agent.jar attach <pid> CONNGUARD_HOST_LIMITS=127.0.0.1=2} on an
 * application started without {@code -javaagent}, whose socket classes are loaded and in use:
 * the storm before the attach reaches the server unchecked, every storm after it is held to the
 * limit; the socket opened before the attach is not counted, and closing it gives no slot away;
 * a second attach is refused; {@code status} shows the host.
 */
class LateAttachIT {

    static final int LIMIT = 2;
    static final Duration CLI_TIMEOUT = Duration.ofSeconds(60);

    /**
     * Capped at the limit plus the early socket, which the agent does not count: over its cap the
     * server refuses (401), and only over its cap does it let in-flight closes land before judging.
     */
    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(LIMIT + 1, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void attachGovernsNewConnectionsFromThenOn(int jdk, @TempDir Path dir) throws Exception {
        JvmProcess app = jvms.java(jdk).main(LateAttachApp.class)
                .args("--url", SERVER.url(), "--go-dir", dir, "--early", 1, "--threads", 16, "--requests", 3)
                .start();
        await(app, () -> app.stdoutLines().contains("EARLY open 1"), "the early connection");

        // Round 1, no agent yet: 16 threads reach the server unchecked.
        SERVER.resetStats(1);
        round(app, dir, 1);
        Map<String, Long> unchecked = SERVER.stats();
        assertThat(unchecked.get("peak")).as("server peak before the attach (stats %s)", unchecked)
                .isGreaterThan(LIMIT + 1L);
        assertThat(unchecked.get("refused")).as("server refusals before the attach (stats %s)", unchecked).isPositive();

        AgentCli attach = AgentCli.run(CLI_TIMEOUT, "attach", app.pid(), "CONNGUARD_HOST_LIMITS=127.0.0.1=" + LIMIT);
        assertThat(attach.exitCode).as("%s", attach).isZero();
        assertThat(attach.stdout).as("%s", attach).contains("attached ConnGuard")
                .contains("to pid " + app.pid()).contains("connguard.host.limits=127.0.0.1=" + LIMIT);
        await(app, () -> app.stderr().contains("connguard: started"), "the start-up line");
        assertThat(app.stderr()).contains("(attached late)").contains("hostLimits=127.0.0.1=" + LIMIT)
                .doesNotContain("ERROR");

        AgentCli none = AgentCli.run(CLI_TIMEOUT, "status", app.pid());
        assertThat(none.exitCode).as("%s", none).isZero();
        assertThat(none.stdout).as("%s", none).contains("started by an earlier attach")
                .contains("no outgoing connection seen yet");

        // Round 2: governed; the early socket is still open and not counted, so the server sees
        // at most the limit plus that one.
        SERVER.resetStats(1);
        round(app, dir, 2);
        Map<String, Long> governed = SERVER.stats();
        assertThat(governed.get("refused")).as("server refusals after the attach (stats %s)", governed).isZero();
        assertThat(governed.get("peak")).as("server peak after the attach (stats %s)", governed)
                .isLessThanOrEqualTo(LIMIT + 1L);
        assertThat(resultLine(app, 2)).contains("ok=48 failed=0");

        // Closing the never-counted early socket must not hand a slot to anyone (the agent's open
        // count would go below zero and a third connection through).
        Files.createFile(dir.resolve("close-early"));
        await(app, () -> app.stdoutLines().contains("EARLY closed"), "the early socket to close");
        SERVER.resetStats(0);
        round(app, dir, 3);
        Map<String, Long> after = SERVER.stats();
        assertThat(after.get("refused")).as("server refusals with the early socket closed (stats %s)", after).isZero();
        assertThat(after.get("peak")).as("server peak with the early socket closed (stats %s)", after)
                .isLessThanOrEqualTo(LIMIT + 1L);
        assertThat(resultLine(app, 3)).contains("ok=48 failed=0");

        AgentCli status = AgentCli.run(CLI_TIMEOUT, "status", app.pid());
        assertThat(status.exitCode).as("%s", status).isZero();
        List<String> row = row(status, "127.0.0.1:" + SERVER.port());
        // HOST LIMIT OPEN IN-USE IDLE QUEUED WAITS TIMEOUTS RECLAIMED HANDOVERS RETRIES LEAKS
        assertThat(row.subList(1, 6)).as("limit, open, in use, idle, queued: %s", status)
                .containsExactly(String.valueOf(LIMIT), "0", "0", "0", "0");
        assertThat(Long.parseLong(row.get(6))).as("waits: %s", status).isPositive();
        assertThat(row.subList(7, 12)).as("timeouts, reclaimed, hand-overs (raw sockets: no pool), retries, leaks: %s",
                status).containsExactly("0", "0", "0", "0", "0");
        assertThat(SERVER.stats().get("open")).isZero();

        AgentCli again = AgentCli.run(CLI_TIMEOUT, "attach", app.pid(), "CONNGUARD_HOST_LIMITS=127.0.0.1=5");
        assertThat(again.exitCode).as("%s", again).isEqualTo(6);
        assertThat(again.stderr).as("%s", again).contains("pid " + app.pid() + " already runs ConnGuard")
                .contains("a second attach is refused");
        assertThat(app.stderr()).as("the agent was not loaded a second time").doesNotContain("second start");
        app.kill();
    }

    /**
     * HttpURLConnection's classes are loaded and in use before the attach; after it, a refused GET
     * (503) is retried: the first two requests of a fresh refusing endpoint fail without the agent
     * and succeed after it.
     */
    @org.junit.jupiter.api.Test
    void attachRetriesRefusalsThroughClientClassesLoadedBefore(@TempDir Path dir) throws Exception {
        JvmProcess app = jvms.java(17).main(LateAttachApp.class)
                .args("--url", SERVER.url(), "--go-dir", dir, "--early", 0, "--threads", 1, "--requests", 3,
                        "--kind", "urlconnection")
                .start();
        await(app, () -> app.stdoutLines().contains("EARLY open 0"), "the app");
        round(app, dir, 1, SERVER.refuseUrl("late-before", "fail=2&status=503"));
        assertThat(resultLine(app, 1)).as("refusals passed on without the agent").contains("ok=1 failed=2");

        AgentCli attach = AgentCli.run(CLI_TIMEOUT, "attach", app.pid(), "CONNGUARD_RETRY_MAX_ATTEMPTS=3",
                "CONNGUARD_RETRY_HOSTS=127.0.0.1");
        assertThat(attach.exitCode).as("%s", attach).isZero();
        round(app, dir, 2, SERVER.refuseUrl("late-after", "fail=2&status=503"));
        assertThat(resultLine(app, 2)).as("refusals retried after the attach").contains("ok=3 failed=0");
        assertThat(SERVER.refuseStats("late-after").count()).as("2 refused + 3 served").isEqualTo(5);

        AgentCli status = AgentCli.run(CLI_TIMEOUT, "status", app.pid());
        assertThat(status.exitCode).as("%s", status).isZero();
        List<String> row = row(status, "127.0.0.1:" + SERVER.port());
        assertThat(row.get(1)).as("no limit: %s", status).isEqualTo("none");
        assertThat(row.get(10)).as("retries after the attach: %s", status).isEqualTo("2");
        assertThat(app.stderr()).contains("retryMaxAttempts=3");
        app.kill();
    }

    static List<String> row(AgentCli status, String host) {
        return status.stdout.lines().filter(l -> l.startsWith(host + " ")).findFirst()
                .map(l -> List.of(l.trim().split("\\s+")))
                .orElseThrow(() -> new AssertionError("no row for " + host + " in\n" + status));
    }

    private static void round(JvmProcess app, Path dir, int round) throws Exception {
        round(app, dir, round, "");
    }

    private static void round(JvmProcess app, Path dir, int round, String url) throws Exception {
        Files.writeString(dir.resolve("go-" + round), url);
        await(app, () -> app.stdoutLines().contains("ROUND " + round + " done"), "round " + round);
    }

    private static String resultLine(JvmProcess app, int round) {
        List<String> lines = app.stdoutLines();
        int start = lines.indexOf("ROUND " + round);
        return lines.subList(start, lines.size()).stream().filter(l -> l.startsWith("RESULT ")).findFirst()
                .orElseThrow(() -> new AssertionError("no RESULT line for round " + round + "\n" + app.diagnostics(30)));
    }

    static void await(JvmProcess app, BooleanSupplier check, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!check.getAsBoolean()) {
            if (System.nanoTime() > deadline || !app.isAlive()) {
                throw new AssertionError("timed out waiting for " + what + "\n" + app.diagnostics(30));
            }
            Thread.sleep(20);
        }
    }
}

package io.connguard.it;

import io.connguard.testapps.client.LateAttachApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.connguard.it.LateAttachIT.await;
import static io.connguard.it.LateAttachIT.row;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code java -jar connguard-agent.jar status <pid>} against real JVMs: the per-host table of a JVM
 * that runs the agent matches what the server saw, {@code --watch} redraws it in place,
 * {@code --leaks} lists leaks; a JVM without the agent, a process that is not a JVM, a pid with
 * no process and bad arguments each get one clear line and their own exit code.
 */
class StatusCliIT {

    static final Duration CLI_TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(2, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @Test
    void tableOfAJvmWithTheAgentMatchesTheServer(@TempDir Path dir) throws Exception {
        JvmProcess app = jvms.java(17).agent().env("CONNGUARD_HOST_LIMITS", "127.0.0.1=2").main(LateAttachApp.class)
                .args("--url", SERVER.url(), "--go-dir", dir, "--early", 1, "--threads", 16, "--requests", 3)
                .start();
        await(app, () -> app.stdoutLines().contains("EARLY open 1"), "the early connection");
        Files.createFile(dir.resolve("go-1"));
        await(app, () -> app.stdoutLines().contains("ROUND 1 done"), "the storm");
        assertThat(SERVER.stats().get("peak")).as("server peak %s", SERVER.stats()).isLessThanOrEqualTo(2L);
        assertThat(SERVER.stats().get("refused")).as("server refusals %s", SERVER.stats()).isZero();

        AgentCli status = AgentCli.run(CLI_TIMEOUT, "status", app.pid());
        assertThat(status.exitCode).as("%s", status).isZero();
        assertThat(status.stdout).as("%s", status).contains("in pid " + app.pid() + " (started by -javaagent)")
                .contains("HOST").contains("LIMIT").contains("IN USE").contains("RECLAIMED").contains("HANDOVERS").contains("LEAKS");
        List<String> row = row(status, "127.0.0.1:" + SERVER.port());
        // The early socket is open and held: the agent's open count is the server's.
        assertThat(row.get(1)).isEqualTo("2");
        assertThat(row.get(2)).as("open: %s", status).isEqualTo(String.valueOf(SERVER.stats().get("open"))).isEqualTo("1");
        assertThat(row.get(3)).as("in use: %s", status).isEqualTo("1");
        assertThat(row.get(5)).as("queued: %s", status).isEqualTo("0");
        assertThat(Long.parseLong(row.get(6))).as("waits: %s", status).isPositive();
        assertThat(row.subList(7, 12)).as("timeouts, reclaimed, hand-overs (raw sockets: no pool), retries, leaks: %s",
                status).containsExactly("0", "0", "0", "0", "0");

        AgentCli leaks = AgentCli.run(CLI_TIMEOUT, "status", app.pid(), "--leaks");
        assertThat(leaks.exitCode).as("%s", leaks).isZero();
        assertThat(leaks.stdout).as("%s", leaks).contains("127.0.0.1:" + SERVER.port())
                .contains("no suspected or reported leaks");

        long started = System.nanoTime();
        AgentCli watch = AgentCli.run(CLI_TIMEOUT, "status", app.pid(), "--watch", 1, "--count", 3);
        assertThat(watch.exitCode).as("%s", watch).isZero();
        assertThat(watch.stdout.split("\u001b\\[H\u001b\\[2J", -1)).as("three tables, each after clear-screen: %s", watch)
                .hasSize(4).startsWith("");
        assertThat(watch.stdout.lines().filter(l -> l.startsWith("127.0.0.1:" + SERVER.port() + " "))).hasSize(3);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("two pauses of 1 s").isGreaterThan(Duration.ofSeconds(2));
        app.kill();
    }

    /** A response held open past the threshold: {@code --leaks} shows it with the leaking line. */
    @Test
    void leaksListTheSuspectedLeakWithItsStack() throws Exception {
        JvmProcess app = jvms.java(17).agent().env("CONNGUARD_LEAK_THRESHOLD", "1s").env("CONNGUARD_LEAK_STACKS", "all")
                .main(io.connguard.testapps.leak.LeakScenario.class)
                .args("--client", "url", "--port", SERVER.port(), "--mode", "hold", "--hold-ms", 30_000).start();
        await(app, () -> app.stdoutLines().stream().anyMatch(l -> l.startsWith("HOLDING ")), "the held response");
        await(app, () -> app.stderr().contains("leak [age]"), "the age report");
        AgentCli leaks = AgentCli.run(CLI_TIMEOUT, "status", app.pid(), "--leaks");
        assertThat(leaks.exitCode).as("%s", leaks).isZero();
        assertThat(row(leaks, "127.0.0.1:" + SERVER.port()).get(11)).as("leaks: %s", leaks).isEqualTo("1");
        assertThat(leaks.stdout).as("%s", leaks)
                .contains("suspected 127.0.0.1:" + SERVER.port() + " client=HttpURLConnection")
                .contains("at io.connguard.testapps.clients.UrlConnectionDriver.leak(UrlConnectionDriver.java:")
                .contains("reported ").contains("leak [age]");
        app.kill();
    }

    @Test
    void jvmWithoutTheAgent(@TempDir Path dir) throws Exception {
        JvmProcess app = jvms.java(17).main(LateAttachApp.class)
                .args("--url", SERVER.url(), "--go-dir", dir, "--early", 0).start();
        await(app, () -> app.stdoutLines().contains("EARLY open 0"), "the app");
        AgentCli status = AgentCli.run(CLI_TIMEOUT, "status", app.pid());
        assertThat(status.exitCode).as("%s", status).isEqualTo(5);
        assertThat(status.stdout).isEmpty();
        assertThat(status.stderr.strip()).as("%s", status).startsWith("connguard: pid " + app.pid() + " runs no ConnGuard agent")
                .contains("java -jar connguard-agent.jar attach " + app.pid()).doesNotContain("\n");

        AgentCli bad = AgentCli.run(CLI_TIMEOUT, "attach", app.pid(), "CONNGUARD_QUEUE_TIMEOUT=soon");
        assertThat(bad.exitCode).as("%s", bad).isEqualTo(2);
        assertThat(bad.stderr).as("%s", bad).contains("CONNGUARD_QUEUE_TIMEOUT").contains("soon")
                .contains("nothing attached");
        assertThat(AgentCli.run(CLI_TIMEOUT, "status", app.pid()).exitCode).as("still no agent").isEqualTo(5);
        app.kill();
    }

    @Test
    void noSuchProcess() throws Exception {
        long pid = 999_999;
        while (ProcessHandle.of(pid).isPresent()) {
            pid++;
        }
        AgentCli status = AgentCli.run(CLI_TIMEOUT, "status", pid);
        assertThat(status.exitCode).as("%s", status).isEqualTo(3);
        assertThat(status.stderr.strip()).isEqualTo("connguard: no process with pid " + pid
                + " (jps lists the JVMs you can see)");
        AgentCli attach = AgentCli.run(CLI_TIMEOUT, "attach", pid);
        assertThat(attach.exitCode).as("%s", attach).isEqualTo(3);
    }

    @Test
    void processThatIsNotAJvmIsLeftAlone() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "120").start();
        try {
            AgentCli status = AgentCli.run(CLI_TIMEOUT, "status", sleep.pid());
            assertThat(status.exitCode).as("%s", status).isEqualTo(4);
            assertThat(status.stderr).as("%s", status).contains("pid " + sleep.pid() + " is not a Java VM (sleep)");
            assertThat(sleep.isAlive()).as("no SIGQUIT was sent to it").isTrue();
            AgentCli attach = AgentCli.run(CLI_TIMEOUT, "attach", sleep.pid());
            assertThat(attach.exitCode).as("%s", attach).isEqualTo(4);
            assertThat(sleep.isAlive()).as("no SIGQUIT was sent to it").isTrue();
        } finally {
            sleep.destroy();
            sleep.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void badCommandLines() throws Exception {
        AgentCli notPid = AgentCli.run(CLI_TIMEOUT, "status", "abc");
        assertThat(notPid.exitCode).isEqualTo(2);
        assertThat(notPid.stderr.strip()).isEqualTo("connguard: 'abc' is not a process id (a whole number > 0, as jps or ps shows)");
        AgentCli unknown = AgentCli.run(CLI_TIMEOUT, "stats", 1);
        assertThat(unknown.exitCode).isEqualTo(2);
        assertThat(unknown.stderr).contains("unknown command 'stats'");
        AgentCli help = AgentCli.run(CLI_TIMEOUT, "help");
        assertThat(help.exitCode).isZero();
        assertThat(help.stdout).contains("status <pid>").contains("attach <pid>");
    }
}

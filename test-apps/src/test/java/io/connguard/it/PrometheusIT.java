package io.connguard.it;

import io.connguard.testapps.client.LateAttachApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static io.connguard.it.LateAttachIT.await;
import static io.connguard.it.LateAttachIT.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code CONNGUARD_PROMETHEUS_PORT}: an application with the agent serves the agent's meters at
 * {@code http://127.0.0.1:<port>/metrics}. A storm through a limit of 2 with a short queue timeout
 * makes requests wait, time out and take over keep-alive connections; the scrape then says what
 * JMX (through {@code status}) and the server say. A busy port is one clear line and the
 * application runs on, still governed; without the agent nothing listens.
 */
class PrometheusIT {

    static final int LIMIT = 2;

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(8, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void theScrapeSaysWhatJmxAndTheServerSay(int jdk, @TempDir Path dir) throws Exception {
        int port = freePort();
        JvmProcess app = stormApp(jdk, dir, port, "urlconnection");
        await(app, () -> app.stdoutLines().contains("EARLY open 1"), "the early connection");
        await(app, () -> app.stderr().contains("Prometheus metrics at http://127.0.0.1:" + port + "/metrics"),
                "the endpoint's start line");
        String host = "{host=\"127.0.0.1\",port=\"" + SERVER.port() + "\"}";

        // A new host's meters are registered one after another, so a scrape can land between two
        // of them: wait (bounded) until the whole set is there.
        Map<String, Double> before = scrape(port);
        long until = System.nanoTime() + 10_000_000_000L;
        while (!complete(before, host) && System.nanoTime() < until) {
            Thread.sleep(50);
            before = scrape(port);
        }
        assertThat(before).as("before the storm").containsEntry("connguard_connections_open" + host, 1.0)
                .containsEntry("connguard_connections_in_use" + host, 1.0)
                .containsEntry("connguard_connections_limit" + host, (double) LIMIT)
                .containsEntry("connguard_queue_timeouts_total" + host, 0.0);

        Files.createFile(dir.resolve("go-1"));
        await(app, () -> app.stdoutLines().contains("ROUND 1 done"), "the storm");
        // (Not the server's peak: with keep-alive connections reclaimed for waiting connects it
        // can see the next connect before the reclaimed one's FIN; the agent's peak is below.)
        Map<String, Long> server = SERVER.stats();

        // Counters only grow and nothing runs now; open/idle can move when the JDK's keep-alive
        // cache drops an idle connection, so scrape, ask JMX, scrape again until both agree.
        Map<String, Double> metrics = null;
        List<String> jmx = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            Map<String, Double> first = scrape(port);
            AgentCli status = AgentCli.run(StatusCliIT.CLI_TIMEOUT, "status", app.pid());
            assertThat(status.exitCode).as("%s", status).isZero();
            jmx = row(status, "127.0.0.1:" + SERVER.port());
            metrics = scrape(port);
            if (first.equals(metrics)) {
                break;
            }
        }
        System.out.println("PROMETHEUS scrape after the storm:\n" + metrics.entrySet().stream()
                .filter(e -> e.getKey().contains("port=\"" + SERVER.port() + "\""))
                .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining("\n")));
        System.out.println("PROMETHEUS status row: " + jmx + " server: " + server);

        // status columns: HOST LIMIT OPEN IN-USE IDLE QUEUED WAITS TIMEOUTS RECLAIMED HANDOVERS RETRIES LEAKS
        assertThat(metrics.get("connguard_connections_limit" + host)).isEqualTo(Double.parseDouble(jmx.get(1)));
        assertThat(metrics.get("connguard_connections_open" + host)).isEqualTo(Double.parseDouble(jmx.get(2)));
        assertThat(metrics.get("connguard_connections_in_use" + host)).isEqualTo(Double.parseDouble(jmx.get(3)));
        assertThat(metrics.get("connguard_connections_idle" + host)).isEqualTo(Double.parseDouble(jmx.get(4)));
        assertThat(metrics.get("connguard_queue_size" + host)).isZero().isEqualTo(Double.parseDouble(jmx.get(5)));
        double timeouts = metrics.get("connguard_queue_timeouts_total" + host);
        assertThat(timeouts).as("connects timed out in line").isPositive().isEqualTo(Double.parseDouble(jmx.get(7)));
        // One pool (the JDK's keep-alive cache) and a deadline shorter than the patience: its
        // connections are handed over, never reclaimed (a reclaim here was the in-use reclaim bug).
        assertThat(metrics.get("connguard_connections_reclaimed_total" + host)).as("idle keep-alive connections reclaimed")
                .isEqualTo(Double.parseDouble(jmx.get(8)));
        assertThat(metrics.get("connguard_connections_handed_over_total" + host))
                .as("keep-alive connections handed straight to a waiting request").isPositive()
                .isEqualTo(Double.parseDouble(jmx.get(9)));
        assertThat(metrics.get("connguard_queue_wait_seconds_count" + host)).as("every wait timed, before and after binding")
                .isEqualTo(Double.parseDouble(jmx.get(6))).isGreaterThanOrEqualTo(timeouts);
        assertThat(metrics.get("connguard_queue_wait_seconds_max" + host)).as("a timed-out wait is ~150 ms")
                .isGreaterThanOrEqualTo(0.14);
        assertThat(metrics).containsKey("connguard_queue_wait_seconds{host=\"127.0.0.1\",port=\"" + SERVER.port()
                + "\",quantile=\"0.99\"}");
        assertThat(metrics.get("connguard_connects_total" + host)).as("connects the server accepted (%s)", server)
                .isEqualTo(server.get("connections").doubleValue());
        assertThat(metrics.get("connguard_connections_peak" + host)).isEqualTo((double) LIMIT);
        double retries = 0;
        for (String outcome : new String[] {"retried", "exhausted", "budget_exceeded"}) {
            retries += metrics.get("connguard_retries_total{host=\"127.0.0.1\",outcome=\"" + outcome + "\",port=\""
                    + SERVER.port() + "\"}");
        }
        assertThat(retries).as("nothing was refused").isZero();
        assertThat(metrics.get("connguard_retries_total{host=\"127.0.0.1\",outcome=\"retried\",port=\""
                + SERVER.port() + "\"}")).isEqualTo(Double.parseDouble(jmx.get(10)));
        double leaks = metrics.get("connguard_leaks_total{detector=\"age\",host=\"127.0.0.1\",port=\"" + SERVER.port() + "\"}")
                + metrics.get("connguard_leaks_total{detector=\"garbage\",host=\"127.0.0.1\",port=\"" + SERVER.port() + "\"}");
        assertThat(leaks).isEqualTo(Double.parseDouble(jmx.get(11)));
        assertThat(app.stderrLines()).as("no stray logging from the shaded libraries")
                .allMatch(l -> !l.contains("SLF4J") && !l.contains("micrometer") && !l.contains("prometheus.metrics")
                        && !l.startsWith("WARNING:"));
        app.kill();
    }

    @Test
    void aBusyPortIsOneClearLineAndTheApplicationRunsOnGoverned(@TempDir Path dir) throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            JvmProcess app = stormApp(17, dir, busy.getLocalPort(), "socket");
            await(app, () -> app.stdoutLines().contains("EARLY open 1"), "the early connection");
            await(app, () -> app.stderr().contains("CONNGUARD_PROMETHEUS_PORT"), "the line about the busy port");
            Files.createFile(dir.resolve("go-1"));
            await(app, () -> app.stdoutLines().contains("ROUND 1 done"), "the storm");
            List<String> lines = app.stderrLines().stream().filter(l -> l.contains("Prometheus")).collect(Collectors.toList());
            assertThat(lines).as("%s", app.stderr()).hasSize(1);
            assertThat(lines.get(0)).contains("could not listen on 127.0.0.1:" + busy.getLocalPort())
                    .contains("CONNGUARD_PROMETHEUS_PORT").contains("no metrics are served");
            assertThat(app.stdoutLines()).anyMatch(l -> l.startsWith("RESULT ") && !l.contains(" ok=0 "));
            AgentCli status = AgentCli.run(StatusCliIT.CLI_TIMEOUT, "status", app.pid());
            assertThat(status.exitCode).as("JMX still works: %s", status).isZero();
            List<String> row = row(status, "127.0.0.1:" + SERVER.port());
            assertThat(Long.parseLong(row.get(6))).as("still governed: connects waited (%s)", status).isPositive();
            assertThat(Long.parseLong(row.get(7))).as("still governed: connects timed out (%s)", status).isPositive();
            app.kill();
        }
    }

    @Test
    void withoutTheAgentNothingListens(@TempDir Path dir) throws Exception {
        int port = freePort();
        JvmProcess app = jvms.java(17).env("CONNGUARD_PROMETHEUS_PORT", String.valueOf(port))
                .main(LateAttachApp.class).args("--url", SERVER.url(), "--go-dir", dir, "--early", 1).start();
        await(app, () -> app.stdoutLines().contains("EARLY open 1"), "the app");
        Thread.sleep(1_000);
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            }
        }).isInstanceOf(ConnectException.class);
        app.kill();
    }

    private JvmProcess stormApp(int jdk, Path dir, int prometheusPort, String kind) {
        return jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=" + LIMIT)
                .env("CONNGUARD_QUEUE_TIMEOUT", "150ms")
                .env("CONNGUARD_PROMETHEUS_PORT", String.valueOf(prometheusPort))
                // The application's own Prometheus client settings never reach the agent's copy.
                .env("PROMETHEUS_CONFIG", dir.resolve("no-such-prometheus.properties").toString())
                .env("IO_PROMETHEUS_NO_SUCH_SETTING", "1")
                .main(LateAttachApp.class)
                .args("--url", SERVER.url(), "--go-dir", dir, "--early", 1, "--threads", 16, "--requests", 4,
                        "--kind", kind)
                .start();
    }

    /** Scrapes the endpoint for real; {@code name{labels} -> value}, comments skipped. */
    static Map<String, Double> scrape(int port) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + "/metrics").openConnection();
        c.setConnectTimeout(5_000);
        c.setReadTimeout(10_000);
        String body;
        try (InputStream in = c.getInputStream()) {
            assertThat(c.getResponseCode()).isEqualTo(200);
            assertThat(c.getContentType()).startsWith("text/plain; version=0.0.4");
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            c.disconnect();
        }
        Map<String, Double> values = new LinkedHashMap<>();
        for (String line : body.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int cut = line.lastIndexOf(' ');
            values.put(line.substring(0, cut), Double.parseDouble(line.substring(cut + 1)));
        }
        return values;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    /** Whether a scrape holds every meter of the host {@code tags} ({@code {host="…",port="…"}}). */
    private static boolean complete(Map<String, Double> scrape, String tags) {
        String portTag = tags.substring(tags.indexOf(",port="));
        for (String name : new String[] {"connguard_connections_open", "connguard_connections_idle",
                "connguard_connections_in_use", "connguard_connections_peak", "connguard_connections_limit",
                "connguard_queue_size", "connguard_queue_timeouts_total", "connguard_queue_full_total",
                "connguard_connects_total", "connguard_connects_ungoverned_total",
                "connguard_connections_reclaimed_total", "connguard_connections_handed_over_total",
                "connguard_queue_wait_seconds_count"}) {
            if (!scrape.containsKey(name + tags)) {
                return false;
            }
        }
        for (String detector : new String[] {"age", "garbage"}) {
            if (!scrape.containsKey("connguard_leaks_total{detector=\"" + detector + "\",host=\"127.0.0.1\"" + portTag)) {
                return false;
            }
        }
        return true;
    }
}

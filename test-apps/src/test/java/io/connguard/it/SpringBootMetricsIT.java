package io.connguard.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.assertj.core.api.InstanceOfAssertFactories;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application that uses Micrometer itself: a Spring Boot app (test-apps/spring, run from Boot's
 * executable jar, so its Micrometer is loaded by Boot's {@code LaunchedClassLoader} from a nested
 * jar) with Boot's Prometheus registry at {@code /actuator/prometheus}. With the agent and a limit
 * of 2 on the server, a storm of one-connection-per-request GETs from the app waits in line; the
 * app's own scrape then holds ConnGuard's meters for that host (Boot feeds
 * {@code Metrics.globalRegistry} into its registry, and the agent's bridge registers there) next to
 * the app's own meters, and says what the server saw. Nothing of the agent's shaded Micrometer
 * meets the app's: no linkage errors anywhere. Without the agent the same scrape has no
 * {@code connguard_} line.
 */
class SpringBootMetricsIT {

    static final int LIMIT = 2;
    static final int THREADS = 16;
    static final int REQUESTS = 4;
    static final int TOTAL = THREADS * REQUESTS;
    private static final long READY_TIMEOUT_MS = 40_000;
    private static final long METERS_TIMEOUT_MS = 10_000;
    /** The bridge looks a second after Micrometer loads, then every second for the app's registry; slack for a busy machine. */
    private static final long BRIDGE_TIMEOUT_MS = 20_000;

    /** Capped at the agent's limit, as in StormIT: more than 2 connections at once are refused (401). */
    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(LIMIT, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void theAgentsMetersAppearInTheApplicationsOwnRegistry(int jdk) throws Exception {
        JvmProcess app = jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1:" + SERVER.port() + "=" + LIMIT)
                .jar(Artifacts.springAppJar())
                .start();
        int appPort = awaitReady(app);
        // The bridge registers once the app has put its own registry into Metrics.globalRegistry,
        // and the wait timer counts from then on: storm only after the agent says so.
        String registered = "meters registered in the application's Metrics.globalRegistry";
        awaitLine(app, registered);
        assertThat(app.stderrLines().stream().filter(l -> l.contains(registered)).collect(Collectors.toList()))
                .as("one line, naming Boot's nested-jar class loader").singleElement(InstanceOfAssertFactories.STRING)
                .contains("LaunchedClassLoader");

        Map<String, String> result = storm(app, appPort);
        Map<String, Long> server = SERVER.stats();
        assertThat(result).as("the storm's result (server %s)", server)
                .containsEntry("ok", String.valueOf(TOTAL)).containsEntry("failed", "0");
        assertThat(server.get("peak")).as("server peak connections (stats %s)", server).isLessThanOrEqualTo((long) LIMIT);
        assertThat(server.get("refused")).as("server refusals (stats %s)", server).isZero();

        Map<String, String> host = new LinkedHashMap<>();
        host.put("host", "127.0.0.1");
        host.put("port", String.valueOf(SERVER.port()));
        // The bridge may register a new host's meters one by one: wait (bounded) for the whole set.
        String[] expected = {"connguard_connections_open", "connguard_connections_idle", "connguard_connections_in_use",
                "connguard_connections_peak", "connguard_connections_limit", "connguard_queue_size",
                "connguard_queue_timeouts_total", "connguard_queue_full_total", "connguard_connects_total",
                "connguard_connects_ungoverned_total", "connguard_connections_reclaimed_total",
                "connguard_connections_handed_over_total",
                "connguard_queue_wait_seconds_count", "connguard_queue_wait_seconds_sum",
                "connguard_queue_wait_seconds_max"};
        List<Sample> scrape = scrape(appPort);
        long until = System.nanoTime() + METERS_TIMEOUT_MS * 1_000_000;
        while (!hasAll(scrape, host, expected) && System.nanoTime() < until && app.isAlive()) {
            Thread.sleep(100);
            scrape = scrape(appPort);
        }
        List<Sample> connguard = scrape.stream().filter(s -> s.name.startsWith("connguard_")).collect(Collectors.toList());
        System.out.println("SPRING /actuator/prometheus, connguard_ lines (jdk" + jdk + ", server " + server + "):\n"
                + connguard.stream().map(Sample::toString).collect(Collectors.joining("\n")));
        for (String name : expected) {
            assertThat(value(scrape, name, host)).as("%s%s in the app's scrape; its connguard_ lines:\n%s", name, host,
                    connguard.stream().map(Sample::toString).collect(Collectors.joining("\n"))).isPresent();
        }

        assertThat(value(scrape, "connguard_connections_limit", host)).hasValue((double) LIMIT);
        assertThat(value(scrape, "connguard_connections_open", host)).as("every connection closed").hasValue(0.0);
        assertThat(value(scrape, "connguard_connections_peak", host)).hasValue((double) LIMIT);
        assertThat(value(scrape, "connguard_connects_total", host)).as("connects the server accepted (%s)", server)
                .hasValue(server.get("connections").doubleValue());
        assertThat(server.get("connections")).as("one connection per request (Connection: close)").isEqualTo((long) TOTAL);
        assertThat(value(scrape, "connguard_queue_wait_seconds_count", host).orElseThrow())
                .as("connects waited in line").isPositive().isLessThanOrEqualTo(TOTAL);
        assertThat(value(scrape, "connguard_queue_timeouts_total", host)).hasValue(0.0);
        assertThat(value(scrape, "connguard_queue_full_total", host)).hasValue(0.0);
        for (String quantile : new String[] {"0.5", "0.95", "0.99"}) {
            assertThat(value(scrape, "connguard_queue_wait_seconds", tags(host, "quantile", quantile)))
                    .as("quantile %s", quantile).isPresent();
        }
        for (String outcome : new String[] {"retried", "exhausted", "budget_exceeded"}) {
            assertThat(value(scrape, "connguard_retries_total", tags(host, "outcome", outcome))).as("retries %s", outcome)
                    .hasValue(0.0);
        }
        for (String detector : new String[] {"age", "garbage"}) {
            assertThat(value(scrape, "connguard_leaks_total", tags(host, "detector", detector))).as("leaks %s", detector)
                    .hasValue(0.0);
        }
        assertThat(connguard).as("only the storm's destination is governed (and tagged host, port)")
                .allMatch(s -> "127.0.0.1".equals(s.labels.get("host"))
                        && String.valueOf(SERVER.port()).equals(s.labels.get("port")));

        // The application's own meters are all still there: its registry works as before.
        System.out.println("SPRING the app's own meters, e.g.:\n" + scrape.stream()
                .filter(s -> s.name.equals("http_server_requests_seconds_count") && "/storm".equals(s.labels.get("uri"))
                        || s.name.equals("jvm_memory_used_bytes") && "G1 Eden Space".equals(s.labels.get("id")))
                .map(Sample::toString).collect(Collectors.joining("\n")));
        assertThat(scrape).anyMatch(s -> s.name.equals("jvm_memory_used_bytes"));
        assertThat(scrape).as("Boot's own HTTP server meters for the storm request")
                .anyMatch(s -> s.name.equals("http_server_requests_seconds_count") && "/storm".equals(s.labels.get("uri"))
                        && s.value >= 1);

        assertNoLinkageTrouble(app);
        app.kill();
    }

    @Test
    void withoutTheAgentTheScrapeHasNoConnguardLine() throws Exception {
        JvmProcess app = jvms.java(17).jar(Artifacts.springAppJar()).start();
        int appPort = awaitReady(app);
        Map<String, String> result = storm(app, appPort);
        Map<String, Long> server = SERVER.stats();
        assertThat(server.get("peak")).as("nothing held the app to %d connections (result %s, stats %s)", LIMIT, result, server)
                .isGreaterThan((long) LIMIT);
        assertThat(Long.parseLong(result.get("failed"))).as("refused by the server (stats %s)", server).isPositive();

        String body = scrapeBody(appPort);
        // (io.connguard does appear: Boot's application_started_time_seconds{main_application_class=...})
        assertThat(body).contains("\njvm_memory_used_bytes{");
        assertThat(body.lines()).as("the scrape").noneMatch(l -> l.startsWith("connguard_")
                || l.startsWith("# HELP connguard_") || l.startsWith("# TYPE connguard_"));
        assertThat(scrape(appPort)).anyMatch(s -> s.name.equals("http_server_requests_seconds_count")
                && "/storm".equals(s.labels.get("uri")));
        assertThat(app.stderrLines()).noneMatch(l -> l.contains("connguard"));
        assertNoLinkageTrouble(app);
        app.kill();
    }

    /** Waits (bounded) for the app's {@code READY port=<port>} line; its HTTP port. */
    private static int awaitReady(JvmProcess app) throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT_MS * 1_000_000;
        while (System.nanoTime() < deadline && app.isAlive()) {
            Optional<String> ready = app.stdoutLines().stream().filter(l -> l.startsWith("READY port=")).findFirst();
            if (ready.isPresent()) {
                return Integer.parseInt(ready.get().substring("READY port=".length()).trim());
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the Spring Boot app printed no READY line within " + READY_TIMEOUT_MS + " ms\n"
                + app.diagnostics(60));
    }

    /** Waits (bounded) for a stderr line containing {@code text}. */
    private static void awaitLine(JvmProcess app, String text) throws InterruptedException {
        long deadline = System.nanoTime() + BRIDGE_TIMEOUT_MS * 1_000_000;
        while (System.nanoTime() < deadline && app.isAlive()) {
            if (app.stderrLines().stream().anyMatch(l -> l.contains(text))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no \"" + text + "\" on stderr within " + BRIDGE_TIMEOUT_MS + " ms\n" + app.diagnostics(60));
    }

    /** {@code POST /storm}: THREADS x REQUESTS GETs from the app to the server; the RESULT line's tokens. */
    private static Map<String, String> storm(JvmProcess app, int appPort) throws IOException {
        String path = URI.create(SERVER.url()).getRawPath();
        URI uri = URI.create("http://127.0.0.1:" + appPort + "/storm?port=" + SERVER.port()
                + "&path=" + URLEncoder.encode(path, StandardCharsets.UTF_8) + "&threads=" + THREADS + "&requests=" + REQUESTS);
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        c.setRequestMethod("POST");
        c.setConnectTimeout(5_000);
        c.setReadTimeout(55_000); // the app gives up on its storm after 45 s
        String body;
        try {
            int status = c.getResponseCode();
            try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
                body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertThat(status).as("POST /storm: %s\n%s", body, app.diagnostics(40)).isEqualTo(200);
        } finally {
            c.disconnect();
        }
        String first = body.lines().findFirst().orElse("");
        assertThat(first).as("the storm's answer").startsWith("RESULT ");
        System.out.println("SPRING storm: " + body.strip().replace('\n', ' '));
        return AppOutput.keyValues(first.substring("RESULT ".length()));
    }

    private static void assertNoLinkageTrouble(JvmProcess app) {
        List<String> lines = new ArrayList<>(app.stderrLines());
        lines.addAll(app.stdoutLines());
        assertThat(lines).as("stderr and stdout of %s", app.name())
                .noneMatch(l -> l.contains("NoClassDefFoundError") || l.contains("LinkageError")
                        || l.contains("ClassCastException") || l.contains("ClassNotFoundException")
                        || l.contains("NoSuchMethodError") || l.contains("IncompatibleClassChangeError"));
        assertThat(app.stderrLines()).as("no warning or error from the agent")
                .noneMatch(l -> l.matches(".*\\b(WARN|ERROR)\\b.*connguard.*"));
    }

    private static String scrapeBody(int appPort) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + appPort + "/actuator/prometheus")
                .toURL().openConnection();
        c.setRequestProperty("Accept", "text/plain");
        c.setConnectTimeout(5_000);
        c.setReadTimeout(10_000);
        try (InputStream in = c.getInputStream()) {
            assertThat(c.getResponseCode()).isEqualTo(200);
            assertThat(c.getContentType()).startsWith("text/plain");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            c.disconnect();
        }
    }

    /** One sample line of the Prometheus text format: name, labels (any order), value. */
    record Sample(String name, Map<String, String> labels, double value, String line) {
        @Override
        public String toString() {
            return line;
        }
    }

    /** Scrapes {@code /actuator/prometheus} for real and parses every sample line (comments skipped). */
    static List<Sample> scrape(int appPort) throws IOException {
        return parse(scrapeBody(appPort));
    }

    static List<Sample> parse(String body) {
        List<Sample> samples = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            Map<String, String> labels = new LinkedHashMap<>();
            String name;
            String rest;
            if (brace >= 0 && (space < 0 || brace < space)) {
                name = line.substring(0, brace);
                int i = brace + 1;
                while (i < line.length() && line.charAt(i) != '}') {
                    int eq = line.indexOf('=', i);
                    String key = line.substring(i, eq).trim();
                    StringBuilder value = new StringBuilder();
                    int j = eq + 2; // past ="
                    while (line.charAt(j) != '"') {
                        char ch = line.charAt(j);
                        if (ch == '\\') {
                            j++;
                            ch = line.charAt(j) == 'n' ? '\n' : line.charAt(j);
                        }
                        value.append(ch);
                        j++;
                    }
                    labels.put(key, value.toString());
                    i = j + 1;
                    if (i < line.length() && line.charAt(i) == ',') {
                        i++;
                    }
                }
                rest = line.substring(i + 1).trim();
            } else {
                name = line.substring(0, space);
                rest = line.substring(space + 1).trim();
            }
            String number = rest.split("\\s+")[0]; // a timestamp may follow
            double value = switch (number) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(number);
            };
            samples.add(new Sample(name, labels, value, line));
        }
        return samples;
    }

    /** The value of the sample {@code name} whose labels are exactly {@code tags} (in any order). */
    static Optional<Double> value(List<Sample> samples, String name, Map<String, String> tags) {
        List<Sample> found = samples.stream().filter(s -> s.name.equals(name) && s.labels.equals(tags))
                .collect(Collectors.toList());
        assertThat(found).as("samples %s%s", name, tags).hasSizeLessThanOrEqualTo(1);
        return found.stream().findFirst().map(Sample::value);
    }

    private static Map<String, String> tags(Map<String, String> base, String key, String value) {
        Map<String, String> tags = new LinkedHashMap<>(base);
        tags.put(key, value);
        return tags;
    }

    private static boolean hasAll(List<Sample> samples, Map<String, String> tags, String... names) {
        return Stream.of(names).allMatch(n -> value(samples, n, tags).isPresent());
    }
}

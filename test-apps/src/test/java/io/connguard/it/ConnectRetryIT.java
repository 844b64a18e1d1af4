package io.connguard.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.sun.net.httpserver.HttpServer;

import io.connguard.testapps.client.RetryApp;

/**
 * Connect-level retries, across the clients ({@link ClientContract#aConnectRefusedUntilTheServerStartsIsRetried}
 * runs the first case below for each client on its own): the client targets a loopback port where nothing listens yet (every
 * connect is refused at once), and the test starts an HTTP server on that port
 * {@value #OPEN_AFTER_MS} ms after the app announced the request. With the agent (up to
 * {@value #LATE_MAX_ATTEMPTS} attempts, back-off from 50 ms growing to at most 200 ms with full
 * jitter: about 1.8 s of waiting in all on average, and below 400 ms only with negligible chance) the GET, and a POST too (a connect refused before any byte was sent is retried for
 * every method), reach the server once each and succeed. Without the agent each fails with its
 * client's connect error (the JDK HttpClient's own immediate second connect is refused as well).
 * With {@code CONNGUARD_RETRY_MAX_ATTEMPTS=2} and a port that never opens, the caller gets its
 * client's usual connect exception and the log one {@code connect refused after 2 attempts} line.
 * These runs name 127.0.0.1 in {@code CONNGUARD_RETRY_HOSTS}: by default only a host with a cap or
 * a name is retried, and a refused connect to any other fails at once, as without the agent, while
 * a capped port of the same host is still retried until it opens.
 */
class ConnectRetryIT {

    static final long OPEN_AFTER_MS = 400;
    static final int LATE_MAX_ATTEMPTS = 20;
    static final int NEVER_MAX_ATTEMPTS = 2;

    /** The exception each client throws for a refused connect (RetryApp unwraps the async client's ExecutionException). */
    static final Map<String, String> CONNECT_EXCEPTION = Map.of(
            "url", "java.net.ConnectException",
            "jdk", "java.net.ConnectException",
            "jdk-async", "java.net.ConnectException",
            "apache4", "org.apache.http.conn.HttpHostConnectException",
            "wagon", "org.apache.maven.wagon.providers.http.httpclient.conn.HttpHostConnectException",
            "apache5", "org.apache.hc.client5.http.HttpHostConnectException",
            "okhttp", "java.net.ConnectException");

    @RegisterExtension
    final Jvms jvms = new Jvms();

    /** All clients, one JVM, no agent: the first refused connect fails the request. */
    @Test
    void withoutTheAgentTheRequestFailsWithAConnectError() throws Exception {
        try (LateServers servers = new LateServers()) {
            RetryRun.Plan plan = new RetryRun.Plan();
            Map<String, LateServer> byClient = new LinkedHashMap<>();
            for (String client : RetryRun.CLIENTS.keySet()) {
                LateServer server = servers.add(client + "-late");
                byClient.put(client, server);
                plan.step(step(server.step, client, "GET", server.url()));
            }
            JvmProcess process = jvms.java(17).main(RetryApp.class).args("--plan", plan.text()).start();
            RetryRun run = servers.watch(process);

            SoftAssertions soft = new SoftAssertions();
            byClient.forEach((client, server) -> {
                String what = server.step + " (" + client + ", no agent)";
                RetryRun.Req req = run.request(server.step);
                soft.assertThat(req.error()).as(what + ": " + req).isNotNull();
                soft.assertThat(req.connectFailure()).as(what + ": a ConnectException in the chain: " + req).isTrue();
                soft.assertThat(req.error()).as(what + ": the client's connect exception").startsWith(CONNECT_EXCEPTION.get(client));
                soft.assertThat(server.requests.get()).as(what + ": requests the late server got").isZero();
            });
            soft.assertThat(run.stderrLines("connguard")).as("no agent, no connguard lines").isEmpty();
            soft.assertAll();
        }
    }

    @Test
    void aPortThatNeverOpensEndsInTheClientsConnectErrorAndOneLogLine() throws Exception {
        RetryRun.Plan plan = new RetryRun.Plan();
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String client : RetryRun.CLIENTS.keySet()) {
            int port = freePort();
            ports.put(client, port);
            plan.step(step(client + "-never", client, "GET", "http://127.0.0.1:" + port + "/never?sig=" + RetryIT.QUERY_SECRET));
        }
        RetryRun run = new RetryRun(jvms.run(jvms.java(17).agent()
                .env("CONNGUARD_RETRY_HOSTS", "127.0.0.1")
                .env("CONNGUARD_RETRY_MAX_ATTEMPTS", String.valueOf(NEVER_MAX_ATTEMPTS))
                .env("CONNGUARD_RETRY_BACKOFF", "20ms")
                .env("CONNGUARD_RETRY_MAX_BACKOFF", "100ms")
                .main(RetryApp.class).args("--plan", plan.text(), "--jmx")));

        SoftAssertions soft = new SoftAssertions();
        ports.forEach((client, port) -> {
            String step = client + "-never";
            String what = step + " (" + client + ", agent, CONNGUARD_RETRY_MAX_ATTEMPTS=" + NEVER_MAX_ATTEMPTS + ")";
            RetryRun.Req req = run.request(step);
            soft.assertThat(req.error()).as(what + ": " + req).isNotNull();
            soft.assertThat(req.connectFailure()).as(what + ": a ConnectException in the chain: " + req).isTrue();
            soft.assertThat(req.error()).as(what + ": the client's usual connect exception").startsWith(CONNECT_EXCEPTION.get(client));
            List<String> lines = run.exhaustedLines(step);
            // java.net.http.HttpClient repeats a refused connect of a GET once by itself: two runs of attempts.
            boolean jdkClient = client.startsWith("jdk");
            soft.assertThat(lines).as(what + ": 'retry [exhausted]' lines" + (jdkClient ? " (HttpClient's own second connect may add one)" : ""))
                    .hasSizeBetween(1, jdkClient ? 2 : 1);
            for (String line : lines) {
                soft.assertThat(line).as(what + ": the exhausted line")
                        .contains("127.0.0.1:" + port)
                        .contains("(" + RetryRun.CLIENTS.get(client) + ")")
                        .contains("connect refused after " + NEVER_MAX_ATTEMPTS + " attempts");
            }
            Optional<Long> exhausted = run.jmxDelta(step, "RetriesExhausted");
            soft.assertThat(exhausted).as(what + ": JMX RetriesExhausted " + run.stepJmx(step)).isPresent();
            exhausted.ifPresent(n -> soft.assertThat(n).as(what + ": JMX RetriesExhausted").isEqualTo((long) lines.size()));
        });
        soft.assertThat(run.stderr()).as("no query string in the log").doesNotContain(RetryIT.QUERY_SECRET);
        soft.assertAll();
    }

    /**
     * Issue 14 item 8: with neither a cap nor a name for its port, a refused connect fails at once
     * as without the agent (its client's connect error, before the port opens: no back-off, no
     * retry counted or logged), while in the same JVM a port capped in {@code CONNGUARD_HOST_LIMITS}
     * is retried until it opens. All clients, one JVM, each warmed up first (its first request
     * waits for the agent's class rewriting).
     */
    @Test
    void aRefusedConnectToAHostNobodyCappedOrNamedFailsAtOnce() throws Exception {
        try (LateServers servers = new LateServers()) {
            LateServer warm = servers.add("warm");
            warm.open();
            RetryRun.Plan plan = new RetryRun.Plan();
            Map<String, LateServer> uncapped = new LinkedHashMap<>();
            Map<String, LateServer> capped = new LinkedHashMap<>();
            List<String> limits = new ArrayList<>();
            for (String client : RetryRun.CLIENTS.keySet()) {
                LateServer plain = servers.add(client + "-uncapped");
                LateServer cap = servers.add(client + "-capped");
                uncapped.put(client, plain);
                capped.put(client, cap);
                limits.add("127.0.0.1:" + cap.port + "=16");
                plan.step(step(client + "-warmup", client, "GET", warm.url()))
                        .step(step(plain.step, client, "GET", plain.url()))
                        .step(step(cap.step, client, "GET", cap.url()));
            }
            JvmProcess process = jvms.java(17).agent()
                    .env("CONNGUARD_HOST_LIMITS", String.join(",", limits))
                    .env("CONNGUARD_RETRY_MAX_ATTEMPTS", String.valueOf(LATE_MAX_ATTEMPTS))
                    .env("CONNGUARD_RETRY_BACKOFF", "50ms")
                    .env("CONNGUARD_RETRY_MAX_BACKOFF", "200ms")
                    .main(RetryApp.class).args("--plan", plan.text(), "--jmx").start();
            RetryRun run = servers.watch(process);

            SoftAssertions soft = new SoftAssertions();
            for (String client : RetryRun.CLIENTS.keySet()) {
                soft.assertThat(run.request(client + "-warmup").status()).as(client + "-warmup: status").isEqualTo(200);
                LateServer plain = uncapped.get(client);
                String what = plain.step + " (agent, port neither capped nor named)";
                RetryRun.Req req = run.request(plain.step);
                soft.assertThat(req.error()).as(what + ": " + req).isNotNull();
                soft.assertThat(req.connectFailure()).as(what + ": a ConnectException in the chain: " + req).isTrue();
                soft.assertThat(req.error()).as(what + ": the client's usual connect exception")
                        .startsWith(CONNECT_EXCEPTION.getOrDefault(client, "?"));
                soft.assertThat(req.ms()).as(what + ": ms until it failed (the port opens after " + OPEN_AFTER_MS
                        + " ms; retried, it would have waited for that)").isLessThan(OPEN_AFTER_MS);
                soft.assertThat(plain.requests.get()).as(what + ": requests the late server got").isZero();
                soft.assertThat(run.agentLines(plain.step)).as(what + ": no retry logged")
                        .noneMatch(l -> l.contains("retry ["));
                run.jmxDelta(plain.step, "Retries").ifPresent(n ->
                        soft.assertThat(n).as(what + ": JMX Retries (fewer than 2 attempts)").isZero());

                LateServer cap = capped.get(client);
                String cappedWhat = cap.step + " (agent, port capped)";
                RetryRun.Req cappedReq = run.request(cap.step);
                soft.assertThat(cappedReq.error()).as(cappedWhat + ": the request failed").isNull();
                soft.assertThat(cappedReq.status()).as(cappedWhat + ": status, after the port opened").isEqualTo(200);
                soft.assertThat(cap.requests.get()).as(cappedWhat + ": requests the late server got").isEqualTo(1);
                Optional<Long> retries = run.jmxDelta(cap.step, "Retries");
                soft.assertThat(retries).as(cappedWhat + ": JMX Retries of the host " + run.stepJmx(cap.step)).isPresent();
                retries.ifPresent(r -> soft.assertThat(r).as(cappedWhat + ": JMX Retries (connect retries made)").isPositive());
            }
            soft.assertAll();
        }
    }

    private static Map<String, Object> step(String name, String client, String method, String url) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("name", name);
        fields.put("client", client);
        fields.put("method", method);
        fields.put("url", url);
        fields.put("timeoutMs", 10_000);
        return fields;
    }

    /**
     * These clients in one JVM, one after the other: a warm-up GET to a listening server (so that
     * the agent's class rewriting is done before the timed steps), then a GET and a POST, each to its
     * own port that opens {@value #OPEN_AFTER_MS} ms after the step starts. {@link ClientContract}
     * runs it for each client.
     */
    static void assertRetriedUntilTheServerStarts(Jvms jvms, int jdk, List<String> clients) throws Exception {
        try (LateServers servers = new LateServers()) {
            LateServer warm = servers.add("warm");
            warm.open();
            RetryRun.Plan plan = new RetryRun.Plan();
            Map<String, List<LateServer>> byClient = new LinkedHashMap<>();
            for (String client : clients) {
                LateServer get = servers.add(client + "-late-get");
                LateServer post = servers.add(client + "-late-post");
                byClient.put(client, List.of(get, post));
                plan.step(step(client + "-warmup", client, "GET", warm.url()))
                        .step(step(get.step, client, "GET", get.url()))
                        .step(step(post.step, client, "POST", post.url()));
            }
            JvmProcess process = jvms.java(jdk).agent()
                    .env("CONNGUARD_RETRY_HOSTS", "127.0.0.1")
                    .env("CONNGUARD_RETRY_MAX_ATTEMPTS", String.valueOf(LATE_MAX_ATTEMPTS))
                    .env("CONNGUARD_RETRY_BACKOFF", "50ms")
                    .env("CONNGUARD_RETRY_MAX_BACKOFF", "200ms")
                    .main(RetryApp.class).args("--plan", plan.text(), "--jmx").start();
            RetryRun run = servers.watch(process);

            SoftAssertions soft = new SoftAssertions();
            byClient.forEach((client, late) -> {
                soft.assertThat(run.request(client + "-warmup").status()).as(client + "-warmup: status").isEqualTo(200);
                for (LateServer server : late) {
                    String what = server.step + " (jdk " + jdk + ", agent)";
                    RetryRun.Req req = run.request(server.step);
                    soft.assertThat(req.error()).as(what + ": the request failed").isNull();
                    soft.assertThat(req.status()).as(what + ": status").isEqualTo(200);
                    soft.assertThat(req.body()).as(what + ": body").isEqualTo(LateServer.BODY);
                    soft.assertThat(server.opened()).as(what + ": the server was started").isTrue();
                    soft.assertThat(server.requests.get()).as(what + ": requests the late server got").isEqualTo(1);
                    soft.assertThat(server.methods).as(what + ": methods the late server got")
                            .containsOnly(server.step.endsWith("post") ? "POST" : "GET");
                    // From the STEP line on, as the opener's clock: the request itself starts a little later.
                    soft.assertThat(Long.parseLong(run.stepResult(server.step).get("ms")))
                            .as(what + ": ms the step took (it cannot succeed before the port opens)")
                            .isGreaterThanOrEqualTo(OPEN_AFTER_MS - 50);
                    soft.assertThat(run.exhaustedLines(server.step)).as(what + ": nothing exhausted").isEmpty();
                    Optional<Long> retries = run.jmxDelta(server.step, "Retries");
                    soft.assertThat(retries).as(what + ": JMX Retries of the host " + run.stepJmx(server.step)).isPresent();
                    retries.ifPresent(r -> soft.assertThat(r).as(what + ": JMX Retries (connect retries made)").isPositive());
                }
            });
            soft.assertAll();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** An HTTP server on a port picked now, started only later; answers 200 {@value #BODY} and counts requests. */
    static final class LateServer implements AutoCloseable {
        static final String BODY = "late but here\n";
        final String step;
        final int port;
        final AtomicInteger requests = new AtomicInteger();
        final List<String> methods = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile HttpServer server;

        LateServer(String step) throws IOException {
            this.step = step;
            this.port = freePort();
        }

        String url() {
            return "http://127.0.0.1:" + port + "/late?sig=" + RetryIT.QUERY_SECRET;
        }

        synchronized void open() throws IOException {
            if (server != null) {
                return;
            }
            HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            http.createContext("/", exchange -> {
                requests.incrementAndGet();
                methods.add(exchange.getRequestMethod());
                try (InputStream in = exchange.getRequestBody()) {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                }
                byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                exchange.close();
            });
            http.setExecutor(Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "late-server-" + port);
                t.setDaemon(true);
                return t;
            }));
            http.start();
            server = http;
        }

        boolean opened() {
            return server != null;
        }

        @Override
        public synchronized void close() {
            if (server != null) {
                server.stop(0);
            }
        }
    }

    /** Late servers keyed by step; opens each {@value #OPEN_AFTER_MS} ms after the app prints that step's STEP line. */
    static final class LateServers implements AutoCloseable {
        private final Map<String, LateServer> servers = new LinkedHashMap<>();
        private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "late-server-opener");
            t.setDaemon(true);
            return t;
        });
        private final List<Throwable> failures = new ArrayList<>();

        LateServer add(String step) throws IOException {
            LateServer server = new LateServer(step);
            servers.put(step, server);
            return server;
        }

        /** Follows the app's stdout until it exits (bounded), opening servers as their steps start. */
        RetryRun watch(JvmProcess process) throws InterruptedException {
            long deadline = System.nanoTime() + Jvms.DEFAULT_TIMEOUT.toNanos();
            java.util.Set<String> scheduled = new java.util.HashSet<>();
            while (true) {
                for (String line : process.stdoutLines()) {
                    if (!line.startsWith("STEP name=")) {
                        continue;
                    }
                    String step = AppOutput.keyValues(line.substring("STEP ".length())).get("name");
                    LateServer server = servers.get(step);
                    if (server != null && scheduled.add(step)) {
                        scheduler.schedule(() -> {
                            try {
                                server.open();
                            } catch (Throwable t) {
                                synchronized (failures) {
                                    failures.add(t);
                                }
                            }
                        }, OPEN_AFTER_MS, TimeUnit.MILLISECONDS);
                    }
                }
                if (!process.isAlive()) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    process.kill();
                    throw new AssertionError(process.name() + " did not exit in " + Jvms.DEFAULT_TIMEOUT + "\n" + process.diagnostics(40));
                }
                Thread.sleep(10);
            }
            synchronized (failures) {
                if (!failures.isEmpty()) {
                    throw new AssertionError("could not open a late server: " + failures.get(0), failures.get(0));
                }
            }
            return new RetryRun(new AppOutput(process, process.awaitExit(java.time.Duration.ofSeconds(10))));
        }

        @Override
        public void close() {
            scheduler.shutdownNow();
            servers.values().forEach(LateServer::close);
        }
    }
}

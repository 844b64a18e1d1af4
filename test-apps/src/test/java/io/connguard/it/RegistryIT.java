package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.registry.RegistryPull;

/**
 * End to end against a real registry: Debian's {@code docker-registry} (distribution 2.x, htpasswd
 * basic auth, filesystem storage) on loopback, behind nginx whose {@code limit_conn} admits
 * {@value #LIMIT} requests in progress and refuses the rest with {@code limit_conn_status} 401, 429
 * or 503, each response paced by {@code limit_rate} so that downloads overlap. An image (config and
 * {@value #LAYERS} random layers of 64-256 KB) is pushed through the registry API, then pulled,
 * docker style ({@code GET /v2/}, the manifest, each blob checked against its digest), by a storm
 * of {@value #JVMS} client JVMs x {@value #THREADS} threads x {@value #PULLS} pulls, one client
 * kind per JVM ({@code HttpURLConnection}, {@code java.net.http.HttpClient} sync and async, Apache
 * HttpClient 4 and 5, OkHttp: every kind in every storm), all sending their credentials with
 * every request. Each JVM warms its client up with one request and waits; then all pulls start at
 * the same moment, so that no JVM (HttpURLConnection starts fastest) finishes before the others begin.
 *
 * <ul>
 *   <li>Without the agent, pulls fail: nginx's refusals reach the callers (measured: 24-31 of 36).</li>
 *   <li>With the agent, its limits switched off and its retries on for nginx, named in
 *       {@code CONNGUARD_RETRY_HOSTS} (back-off {@value #BACKOFF} to {@value #MAX_BACKOFF},
 *       {@value #MAX_ATTEMPTS} attempts; the 401 case with {@code CONNGUARD_REGISTRY_HOSTS} naming
 *       nginx too), no pull fails, although nginx's
 *       access log shows that it refused requests (measured: 163-222 refusals per storm), and every
 *       JVM's Host MBean counts retries and no exhausted one. Tuned for that on 2 busy cores: a
 *       thread that got in keeps its slot from request to request over keep-alive, so a refused
 *       request may wait for whole pulls of others; its retries must outlast the storm (about
 *       3-5 s here at load 15-25). 20 attempts with back-off capped at 2 s give about 15 s; with 3
 *       pulls per thread, 15 attempts and a 1 s cap (about 7.5 s) a request was occasionally
 *       refused to the end ({@code retry [exhausted]}), as the agent should then report.</li>
 *   <li>With the agent but without {@code CONNGUARD_REGISTRY_HOSTS} (nginx still named in
 *       {@code CONNGUARD_RETRY_HOSTS}), nginx's 401 is passed on: pulls fail and nothing is retried.</li>
 *   <li>The normal authentication flow passes untouched: clients that first ask anonymously (three
 *       pulls per JVM, each starting with {@code GET /v2/} without credentials) get the registry's
 *       own {@code 401} with its {@code WWW-Authenticate: Basic} challenge, exactly one anonymous
 *       request per pull in the access log and no other 401, no retry logged or counted, and the
 *       answer in well under the {@value #ANON_BACKOFF} back-off (timed from the second pull on: the
 *       first one also loads and rewrites the client's classes); then they pull with their
 *       credentials.</li>
 * </ul>
 * Skipped when {@code docker-registry} or {@code nginx} is not installed ({@code .ci/run} installs both).
 */
class RegistryIT {

    static final int LIMIT = 4;
    static final String RATE = "2m";
    static final int JVMS = 6;
    static final int THREADS = 3;
    static final int PULLS = 2;
    static final int LAYERS = 3;
    static final String BACKOFF = "50ms";
    static final String MAX_BACKOFF = "2s";
    static final String MAX_ATTEMPTS = "20";
    static final int[] STATUSES = {401, 429, 503};
    static final String[] CLIENTS = {"url", "jdk", "jdk-async", "apache4", "apache5", "okhttp"};
    static final Duration JVM_TIMEOUT = Duration.ofSeconds(90);

    /** The anonymous-flow case: a back-off this long makes any retry of the anonymous 401 visible. */
    static final String ANON_BACKOFF = "3s";
    static final long ANON_MAX_MS = 1_000;
    static final int ANON_PULLS = 3;

    private static RegistryRig rig;
    private static RegistryRig.Image image;

    @RegisterExtension
    final Jvms jvms = new Jvms();

    /** Why the tests are skipped, or null when both servers are installed. */
    private static String missing;

    @BeforeAll
    static void registry() throws Exception {
        if (!RegistryRig.registryInstalled()) {
            missing = "RegistryIT skipped: " + RegistryRig.REGISTRY_BINARY
                    + " is not installed (Debian package docker-registry; .ci/run installs it)";
        } else if (RegistryRig.nginxBinary() == null) {
            missing = "RegistryIT skipped: nginx is not installed (Debian package nginx; .ci/run installs it)";
        }
        if (missing != null) {
            System.err.println(missing);
            return;
        }
        rig = RegistryRig.startRegistry();
        image = rig.seed("connguard/probe", "v1", LAYERS, 42);
        System.out.printf("REGISTRY registry=%s image=%s manifest=%s blobs=%d bytes=%d%n", rig.registryBase(),
                image.reference(), image.manifestDigest(), image.blobDigests().size(), image.bytes());
    }

    @BeforeEach
    void installed() {
        assumeTrue(missing == null, missing);
    }

    @AfterAll
    static void stopRegistry() {
        if (rig != null) {
            rig.keepLogs("RegistryIT-registry");
            rig.close();
            rig = null;
        }
    }

    @ParameterizedTest(name = "status{0}")
    @ValueSource(ints = {401, 429, 503})
    void withoutTheAgentRefusalsFailPulls(int status) throws Exception {
        rig.startNginx(LIMIT, status, RATE);
        try {
            List<AppOutput> outs = storm(status, false);
            long failed = outs.stream().mapToLong(AppOutput::failed).sum();
            long ok = outs.stream().mapToLong(AppOutput::ok).sum();
            long refusals = rig.accessCount(status);
            System.out.printf("REGISTRYSTORM status=%d agent=no ok=%d failed=%d nginxRefusals=%d reasons=%s%n",
                    status, ok, failed, refusals, reasons(outs));
            SoftAssertions softly = new SoftAssertions();
            for (AppOutput out : outs) {
                softly.assertThat(out.exitCode()).as("exit code of %s", out.process().name()).isZero();
                softly.assertThat(out.ok() + out.failed()).as("pulls accounted for by %s", out.process().name())
                        .isEqualTo((long) THREADS * PULLS);
            }
            softly.assertThat(refusals).as("%d answers in nginx's access log %s", status, rig.nginxDir()).isPositive();
            softly.assertThat(failed).as("failed pulls without the agent (%s)", reasons(outs)).isPositive();
            softly.assertThat(reasons(outs).keySet()).as("failure reasons")
                    .anyMatch(r -> r.contains("status " + status));
            softly.assertAll();
        } finally {
            rig.keepLogs("RegistryIT-withoutAgent-status" + status + "-nginx");
            rig.stopNginx();
        }
    }

    @ParameterizedTest(name = "status{0}")
    @ValueSource(ints = {401, 429, 503})
    void withTheAgentEveryPullSucceeds(int status) throws Exception {
        rig.startNginx(LIMIT, status, RATE);
        try {
            List<AppOutput> outs = storm(status, true);
            long failed = outs.stream().mapToLong(AppOutput::failed).sum();
            long ok = outs.stream().mapToLong(AppOutput::ok).sum();
            long refusals = rig.accessCount(status);
            long limited = rig.errorLog().stream().filter(l -> l.contains("limiting connections")).count();
            Map<String, Long> retries = new LinkedHashMap<>();
            Map<String, Long> exhausted = new LinkedHashMap<>();
            for (AppOutput out : outs) {
                Map<String, String> host = out.hostMBean(rig.nginxPort()).orElse(Map.of());
                retries.put(label(out), parse(host.get("Retries")));
                exhausted.put(label(out), parse(host.get("RetriesExhausted")));
            }
            long totalRetries = retries.values().stream().mapToLong(Long::longValue).sum();
            System.out.printf("REGISTRYSTORM status=%d agent=yes ok=%d failed=%d nginxRefusals=%d limitedLines=%d "
                            + "retries=%s exhausted=%s reasons=%s%n",
                    status, ok, failed, refusals, limited, retries, exhausted, reasons(outs));

            SoftAssertions softly = new SoftAssertions();
            for (AppOutput out : outs) {
                String name = label(out);
                softly.assertThat(out.exitCode()).as("exit code of %s", name).isZero();
                softly.assertThat(out.failed()).as("failed pulls of %s (%s)", name, out.failReasons()).isZero();
                softly.assertThat(out.ok()).as("pulls of %s", name).isEqualTo((long) THREADS * PULLS);
                softly.assertThat(out.hostMBean(rig.nginxPort())).as("Host MBean for nginx in %s", name).isPresent();
                softly.assertThat(retries.get(name)).as("Retries in the Host MBean of %s: every client was refused "
                        + "and retried", name).isPositive();
                softly.assertThat(exhausted.get(name)).as("RetriesExhausted in the Host MBean of %s", name).isZero();
                softly.assertThat(out.stderrLines()).as("stderr of %s", name)
                        .anyMatch(l -> l.contains("connguard: started"))
                        .noneMatch(l -> l.contains("ERROR connguard"))
                        .noneMatch(l -> l.contains("retry exhausted") || l.contains("retry [exhausted]"));
            }
            softly.assertThat(refusals).as("%d answers in nginx's access log %s: the storm was refused", status,
                    rig.nginxDir()).isPositive();
            softly.assertThat(limited).as("'limiting connections' lines in nginx's error log").isPositive();
            softly.assertThat(totalRetries).as("Retries in the JVMs' Host MBeans %s", retries).isPositive();
            softly.assertAll();
        } finally {
            rig.keepLogs("RegistryIT-withAgent-status" + status + "-nginx");
            rig.stopNginx();
        }
    }

    /**
     * The 401 rule is the registry's only: with the agent but without {@code CONNGUARD_REGISTRY_HOSTS}
     * (nginx is in {@code CONNGUARD_RETRY_HOSTS}: its 429 and 503 would be retried), nginx's
     * challenge-less 401 to a request with credentials is an ordinary answer, passed on.
     */
    @Test
    void withTheAgentA401FromAHostNotNamedARegistryIsPassedOn() throws Exception {
        rig.startNginx(LIMIT, 401, RATE);
        try {
            List<AppOutput> outs = storm(401, true, false);
            long failed = outs.stream().mapToLong(AppOutput::failed).sum();
            long refusals = rig.accessCount(401);
            Map<String, Long> retries = new LinkedHashMap<>();
            for (AppOutput out : outs) {
                retries.put(label(out), parse(out.hostMBean(rig.nginxPort()).orElse(Map.of()).get("Retries")));
            }
            System.out.printf("REGISTRYSTORM status=401 agent=yes registryHosts=none failed=%d nginxRefusals=%d "
                    + "retries=%s reasons=%s%n", failed, refusals, retries, reasons(outs));
            SoftAssertions softly = new SoftAssertions();
            for (AppOutput out : outs) {
                String name = label(out);
                softly.assertThat(out.exitCode()).as("exit code of %s", name).isZero();
                softly.assertThat(out.ok() + out.failed()).as("pulls accounted for by %s", name)
                        .isEqualTo((long) THREADS * PULLS);
                softly.assertThat(out.hostMBean(rig.nginxPort())).as("Host MBean for nginx in %s", name).isPresent();
                softly.assertThat(retries.get(name)).as("Retries in the Host MBean of %s", name).isZero();
                softly.assertThat(out.stderrLines()).as("stderr of %s", name)
                        .anyMatch(l -> l.contains("connguard: started"))
                        .noneMatch(l -> l.contains("ERROR connguard"))
                        .noneMatch(l -> l.contains("connguard: retry"));
            }
            softly.assertThat(refusals).as("401 answers in nginx's access log %s", rig.nginxDir()).isPositive();
            softly.assertThat(failed).as("failed pulls (%s)", reasons(outs)).isPositive();
            softly.assertAll();
        } finally {
            rig.keepLogs("RegistryIT-withAgentNoRegistryHosts-status401-nginx");
            rig.stopNginx();
        }
    }

    @Test
    void theAnonymousChallengeIsPassedOnAtOnceAndNotRetried() throws Exception {
        rig.startNginx(1_000, 503, "0");
        try {
            List<JvmProcess> started = new ArrayList<>();
            for (String client : CLIENTS) {
                started.add(jvms.java(17).agent()
                        .env("CONNGUARD_REGISTRY_HOSTS", "127.0.0.1")
                        .env("CONNGUARD_RETRY_BACKOFF", ANON_BACKOFF)
                        .env("CONNGUARD_RETRY_MAX_BACKOFF", "6s")
                        .env("CONNGUARD_RETRY_MAX_ATTEMPTS", MAX_ATTEMPTS)
                        .jvmArg("-Xmx256m")
                        .main(RegistryPull.class)
                        .args("--client", client, "--base", rig.nginxBase(), "--image", image.reference(),
                                "--user", RegistryRig.USER, "--password", RegistryRig.PASSWORD,
                                "--anonymous-flow", "--pulls", ANON_PULLS, "--threads", 1, "--jmx")
                        .start());
            }
            List<AppOutput> outs = new ArrayList<>();
            for (JvmProcess p : started) {
                outs.add(new AppOutput(p, p.awaitExit(JVM_TIMEOUT)));
            }
            List<String> access = rig.accessLog();
            List<String> anonymous = access.stream().filter(l -> l.contains("user=-")).collect(Collectors.toList());
            List<String> unauthorized = access.stream().filter(l -> l.startsWith("401 ")).collect(Collectors.toList());
            SoftAssertions softly = new SoftAssertions();
            for (int i = 0; i < outs.size(); i++) {
                AppOutput out = outs.get(i);
                String name = out.process().name() + " (" + CLIENTS[i] + ")";
                List<Map<String, String>> anons = out.lines().stream().filter(l -> l.startsWith("ANON "))
                        .map(l -> AppOutput.keyValues(l.substring(5))).collect(Collectors.toList());
                System.out.printf("REGISTRYANON %s %s result=%s host=%s%n", name, anons,
                        out.tagged("RESULT").orElse(Map.of()), out.hostMBean(rig.nginxPort()).orElse(Map.of()));
                softly.assertThat(out.exitCode()).as("exit code of %s", name).isZero();
                softly.assertThat(anons).as("ANON lines of %s", name).hasSize(ANON_PULLS);
                for (Map<String, String> anon : anons) {
                    softly.assertThat(anon).as("anonymous GET /v2/ of %s", name).containsEntry("status", "401");
                    softly.assertThat(anon.getOrDefault("challenge", "none")).as("challenge seen by %s", name)
                            .startsWith("Basic_realm=\"" + RegistryRig.REALM + "\"");
                    if (!"1".equals(anon.get("pull"))) {
                        // The first one also loads and rewrites the client's classes in a JVM that
                        // shares 2 cores with five others; the later ones are the 401 alone.
                        softly.assertThat(parse(anon.get("elapsedMs")))
                                .as("ms until %s saw the anonymous 401 of pull %s (retry back-off %s)", name,
                                        anon.get("pull"), ANON_BACKOFF)
                                .isLessThan(ANON_MAX_MS);
                    }
                }
                softly.assertThat(out.tagged("RESULT").map(r -> r.get("ok")).orElse("none")).as("pulls ok of %s", name)
                        .isEqualTo(String.valueOf(ANON_PULLS));
                softly.assertThat(out.stderrLines()).as("stderr of %s", name)
                        .anyMatch(l -> l.contains("connguard: started"))
                        .noneMatch(l -> l.contains("ERROR connguard"))
                        .noneMatch(l -> l.contains("connguard: retry"));
                softly.assertThat(out.hostMBean(rig.nginxPort())).as("Host MBean for nginx in %s", name).isPresent();
                out.hostMBean(rig.nginxPort()).ifPresent(host -> softly.assertThat(parse(host.get("Retries")))
                        .as("Retries in the Host MBean of %s: %s", name, host).isZero());
            }
            softly.assertThat(anonymous).as("anonymous requests in nginx's access log: one per pull")
                    .hasSize(CLIENTS.length * ANON_PULLS);
            softly.assertThat(anonymous).as("anonymous requests").allMatch(l -> l.startsWith("401 \"GET /v2/ "));
            softly.assertThat(unauthorized).as("401 answers in nginx's access log: only the anonymous ones")
                    .hasSize(CLIENTS.length * ANON_PULLS);
            softly.assertAll();
        } finally {
            rig.keepLogs("RegistryIT-anonymousFlow-nginx");
            rig.stopNginx();
        }
    }

    /** {@value #JVMS} JVMs started together, client kinds rotated by status, awaited. */
    private List<AppOutput> storm(int status, boolean agent) throws Exception {
        return storm(status, agent, status == 401);
    }

    private List<AppOutput> storm(int status, boolean agent, boolean registryHosts) throws Exception {
        int shift = indexOf(status);
        Path go = rig.newGoFile();
        List<JvmProcess> started = new ArrayList<>();
        for (int j = 0; j < JVMS; j++) {
            String client = CLIENTS[(j + shift) % CLIENTS.length];
            JvmProcess.Builder b = jvms.java(17).jvmArg("-Xmx256m").main(RegistryPull.class)
                    .args("--client", client, "--base", rig.nginxBase(), "--image", image.reference(),
                            "--user", RegistryRig.USER, "--password", RegistryRig.PASSWORD,
                            "--pulls", PULLS, "--threads", THREADS, "--deadline-ms", 80_000, "--jmx",
                            "--go-file", go);
            if (agent) {
                b.agent()
                        .env("CONNGUARD_RETRY_BACKOFF", BACKOFF)
                        .env("CONNGUARD_RETRY_MAX_BACKOFF", MAX_BACKOFF)
                        .env("CONNGUARD_RETRY_MAX_ATTEMPTS", MAX_ATTEMPTS)
                        // No limits here: nginx is retried because it is named.
                        .env("CONNGUARD_RETRY_HOSTS", "127.0.0.1:" + rig.nginxPort());
                if (registryHosts) {
                    b.env("CONNGUARD_REGISTRY_HOSTS", "127.0.0.1:" + rig.nginxPort());
                }
            }
            started.add(b.start());
        }
        // Every JVM has warmed its client up (READY): start all the pulls at once.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && !started.stream().allMatch(
                p -> !p.isAlive() || p.stdoutLines().stream().anyMatch(l -> l.startsWith("READY ")))) {
            Thread.sleep(20);
        }
        Files.createFile(go);
        List<AppOutput> outs = new ArrayList<>();
        for (JvmProcess p : started) {
            outs.add(new AppOutput(p, p.awaitExit(JVM_TIMEOUT)));
        }
        return outs;
    }

    /** The JVM's log name and its client kind: {@code RegistryIT-...-status429-3/apache4}. */
    private static String label(AppOutput out) {
        return out.process().name() + "/" + out.tagged("RESULT").map(r -> r.get("client")).orElse("?");
    }

    private static int indexOf(int status) {
        for (int i = 0; i < STATUSES.length; i++) {
            if (STATUSES[i] == status) {
                return i;
            }
        }
        return 0;
    }

    private static Map<String, Long> reasons(List<AppOutput> outs) {
        Map<String, Long> all = new LinkedHashMap<>();
        for (AppOutput out : outs) {
            out.failReasons().forEach((r, n) -> all.merge(r, n, Long::sum));
        }
        return all;
    }

    private static long parse(String value) {
        try {
            return value == null ? 0 : Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}

package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.it.LeakReports.Report;
import io.connguard.testapps.client.LoadClient;
import io.connguard.testapps.clients.ClientDriver;
import io.connguard.testapps.leak.LeakScenario;

/**
 * What ConnGuard promises for every HTTP client, run against one client by each {@code *ClientIT}
 * (a short class naming the client's driver, {@code io.connguard.testapps.clients.<Client>Driver}).
 * Every case runs the client in its own JVM with the agent, against real servers on 127.0.0.1:
 * <ul>
 *   <li><b>cap</b>: a storm of 64 threads x 5 GETs against a server that refuses beyond 8 open
 *       connections: without the agent requests fail; with {@code CONNGUARD_HOST_LIMITS=127.0.0.1=8}
 *       none does, the server never sees more than 8 and the Host MBean agrees ({@link Storm});</li>
 *   <li><b>reclaim across pools</b>: 48 threads, each with a pool of its own, under the same cap:
 *       idle pooled connections of one pool are reclaimed for another's waiting connect, in time
 *       ({@link PoolReclaim}); without the agent the same run overwhelms the server;</li>
 *   <li><b>queue timeout</b>: under a limit of 1 with a response held open, a second request waits
 *       the queue timeout and fails with {@code ConnectionLimitException}, naming host, limit and
 *       setting; once the held response is closed, a waiting request gets through;</li>
 *   <li><b>429/503 retry</b>: every {@link RetryIT.Case} on the refusing endpoint (retried by the
 *       rules, or passed on unchanged), with the log lines and JMX counters;</li>
 *   <li><b>refused-connect retry</b>: a GET and a POST to a port that opens 400 ms later succeed,
 *       once each ({@link ConnectRetryIT#assertRetriedUntilTheServerStarts});</li>
 *   <li><b>leak hold/drop</b>: a real application ({@code io.connguard.testapps.leak.LeakScenario}
 *       with the client's driver) forgets to close a response in one known place, the driver's
 *       {@code leak} method; the app prints that place ({@code LEAKSITE file=... line=...}), so no
 *       line number is written down here:
 *     <ul>
 *       <li>hold: the response is held past {@code CONNGUARD_LEAK_THRESHOLD=2s}, then closed: one
 *           {@code leak [age]} WARN whose stack names the leaking line, logged within the threshold and
 *           a few seconds, then one {@code leak [returned]}; JMX shows it (Leaks, InUse,
 *           OldestLeaseAgeMillis, listLeaks());</li>
 *       <li>drop: responses dropped without close under a host limit equal to their number:
 *           {@code leak [garbage]} naming the line, and the five requests that follow all succeed
 *           because the leaked connections are retired and their slots given back;</li>
 *       <li>three identical leaks: their stack is logged once (JMX still counts three);</li>
 *       <li>a slow download that outlasts the threshold but keeps receiving bytes: no report;</li>
 *       <li>a program that closes everything, pauses longer than the threshold and collects garbage:
 *           no report.</li>
 *     </ul></li>
 * </ul>
 * A client that cannot do a case says so by overriding the method that describes it (e.g.
 * {@link #dropsBecomeGarbage()}); the case is then skipped with the reason. The JDK's own clients
 * run the cases that depend on the JDK on 17 and 25, the libraries on 17 (as before the contract);
 * the reclaim run is on both for every client.
 */
abstract class ClientContract {

    /** The storm and reclaim runs' server: refuses beyond {@link Storm#CAP} open connections. */
    @RegisterExtension
    static final HarborServer LOAD_SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    /** The leak runs' server: no cap of its own, answers after 5 ms. */
    @RegisterExtension
    static final HarborServer LEAK_SERVER = new HarborServer(0, 5);

    /** The retry runs' server: its {@code /refuse/<id>} endpoint. */
    @RegisterExtension
    static final HarborServer RETRY_SERVER = new HarborServer(0, 0);

    static final int HOLD_THRESHOLD_MS = 2_000;
    /** How long the app holds the leaked response: the report must come well before it is closed. */
    static final int HOLD_MS = HOLD_THRESHOLD_MS + 4_000;
    /** An [age] report may come this much later than the threshold (the detector looks periodically). */
    static final long REPORT_SLACK_MS = 3_000;
    static final Duration CHILD_TIMEOUT = Duration.ofSeconds(90);
    static final int AFTER = 5;

    @RegisterExtension
    final Jvms jvms = new Jvms();

    /** The client's name for the apps ({@code --client}, a retry plan's {@code client=}), e.g. {@code apache4}. */
    abstract String name();

    /** The client's driver, e.g. {@code Apache4Driver.class}: the file a leak report's stack names. */
    abstract Class<? extends ClientDriver> driver();

    /** The client's name in the agent's log lines, e.g. {@code Apache HttpClient 4}. */
    abstract String client();

    /** The LoadClient kind with a client (and pool) per thread, for the reclaim run. */
    abstract String perThreadKind();

    /** True where every thread of the JVM shares one pool even when it builds its own client (the JDK's keep-alive cache). */
    boolean onePoolPerJvm() {
        return false;
    }

    /**
     * The LoadClient kind of the storm, or null where the reclaim run is the client's storm (its
     * server's peak and refusals are the cap checks) and the storm was never run separately.
     */
    String stormKind() {
        return null;
    }

    /**
     * The LoadClient kind whose one pool, shared by every thread, has a per-route limit and a queue
     * of its own above the cap (Apache's), or null where the client has none.
     */
    String sharedPoolKind() {
        return null;
    }

    /** True for the JDK's own clients, which change with the JDK: their JDK-dependent cases also run on 25. */
    boolean ofTheJdk() {
        return false;
    }

    /** The RetryApp names that the retry cases run, in one JVM: the client, and its variants. */
    List<String> retryNames() {
        return List.of(name());
    }

    /**
     * False where the client turns a failed connect into a {@code ConnectException} of its own that
     * copies the message but drops the cause (Apache HttpClient 5's {@code HttpHostConnectException}):
     * the caller then sees ConnGuard's message, not its exception.
     */
    boolean keepsTheLimitExceptionInItsCauses() {
        return true;
    }

    /** False for {@code java.net.http.HttpClient}: its leaked connections never become garbage. */
    boolean dropsBecomeGarbage() {
        return true;
    }

    /** False where the pool lends the connection on another thread than the caller's. */
    boolean borrowsOnCallerThread() {
        return true;
    }

    // ---- cap ----

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void withoutTheAgentTheStormOverwhelmsTheServer(int jdk) {
        assumeTrue(stormKind() != null, "the reclaim run is this client's storm");
        AppOutput out = jvms.run(jvms.java(jdk).main(LoadClient.class).args(Storm.loadArgs(LOAD_SERVER, stormKind(), false)));

        Storm.assertOverwhelmed(out, LOAD_SERVER);
    }

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void withTheAgentEveryRequestSucceedsAndTheServerStaysAtTheCap(int jdk) {
        assumeTrue(stormKind() != null, "the reclaim run is this client's storm");
        assertStorm(jdk, stormKind());
    }

    /** The governed storm with this LoadClient kind on this JDK. */
    void assertStorm(int jdk, String kind) {
        AppOutput out = jvms.run(jvms.java(jdk).agent().env("CONNGUARD_HOST_LIMITS", Storm.HOST_LIMITS)
                .main(LoadClient.class).args(Storm.loadArgs(LOAD_SERVER, kind, true)));

        Storm.assertGoverned(out, LOAD_SERVER);
        Storm.assertHostMBean(out, LOAD_SERVER);
    }

    /**
     * One pool shared by the storm's 64 threads, its own per-route limit 64: under the cap of 8 the
     * requests over it wait in the pool's own queue and reuse its connections, so nothing fails, the
     * server never sees more than 8, and it sees few TCP connections for the 320 requests (at most
     * 4 x the cap; each request over the cap would cost one if a wait closed an idle connection).
     */
    @Test
    void aSharedPoolAtTheCapServesTheStormFromItsOwnQueueAndReusesItsConnections() {
        assumeTrue(sharedPoolKind() != null, "no pool of its own with a per-route limit and a queue");
        assertStorm(17, sharedPoolKind());
        Map<String, Long> stats = LOAD_SERVER.stats();
        assertThat(stats.get("connections")).as("TCP connections the server accepted for %d requests (stats %s)",
                Storm.TOTAL, stats).isLessThanOrEqualTo(4L * Storm.CAP);
    }

    // ---- reclaim across pools ----

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void idlePooledConnectionsAreReclaimedAcrossPools(int jdk) {
        PoolReclaim.assertReclaimed(jvms, LOAD_SERVER, jdk, perThreadKind(), onePoolPerJvm());
    }

    @Test
    void withoutTheAgentTheReclaimRunOverwhelmsTheServer() {
        assumeTrue(stormKind() == null, "the storm without the agent shows it");
        PoolReclaim.assertOverwhelmed(jvms, LOAD_SERVER, perThreadKind());
    }

    // ---- queue timeout ----

    /**
     * Limit 1 and a 500 ms queue timeout: while one response is held, a second request waits about
     * 500 ms and then fails with a {@code ConnectException}: {@code io.connguard.ConnectionLimitException}
     * in its cause chain as the client wraps it (or only its message, see
     * {@link #keepsTheLimitExceptionInItsCauses()}), which names the host, the limit and the setting to change.
     * Once the held response is closed, a request gets through.
     */
    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void aRequestThatCannotGetASlotInTimeFailsWithConnectionLimitException(int jdk) {
        assumeTrue(jdk == 17 || ofTheJdk(), "a library: JDK 17 only");
        int port = LEAK_SERVER.port();
        AppOutput out = jvms.run(jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=1")
                .env("CONNGUARD_QUEUE_TIMEOUT", "500ms")
                .main(LeakScenario.class).args("--client", name(), "--port", port, "--mode", "queue", "--leak-bytes", 65_536),
                CHILD_TIMEOUT);
        String why = LeakReports.connguardLines(out);
        assertThat(out.exitCode()).as(why).isZero();
        String queued = out.lines().stream().filter(l -> l.startsWith("QUEUED ")).findFirst()
                .orElseThrow(() -> new AssertionError("no QUEUED line\n" + why));
        Map<String, String> fields = AppOutput.keyValues(queued.substring("QUEUED ".length(), queued.indexOf(" message=")));
        String message = queued.substring(queued.indexOf(" message=") + " message=".length());
        softly(out, softly -> {
            softly.assertThat(fields).as(queued).containsEntry("waiting", "false").containsEntry("connect", "true");
            if (keepsTheLimitExceptionInItsCauses()) {
                softly.assertThat(fields).as(queued).containsEntry("limit", "true")
                        .containsEntry("class", "io.connguard.ConnectionLimitException");
            }
            softly.assertThat(message).as("message names the host").contains("127.0.0.1");
            softly.assertThat(message).as("message names the setting to change").contains("CONNGUARD_");
            softly.assertThat(message.replace("127.0.0.1", " ").replace(String.valueOf(port), " "))
                    .as("message names the limit (1)").containsPattern("(?<![\\d.])1(?![\\d.])");
            softly.assertThat(Long.parseLong(fields.get("ms"))).as("ms the second request waited").isBetween(400L, 15_000L);
            softly.assertThat(out.tagged("AFTER")).as("a request after the held response was closed")
                    .hasValueSatisfying(a -> assertThat(a).containsEntry("ok", "1"));
        });
    }

    // ---- retries ----

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void refusalsAreRetriedByTheRules(int jdk) {
        assumeTrue(jdk == 17 || ofTheJdk(), "a library: JDK 17 only");
        RetryIT.runWithAgent(jvms, RETRY_SERVER, jdk, retryNames(), List.of(RetryIT.Case.values()), "127.0.0.1", true);
    }

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void aConnectRefusedUntilTheServerStartsIsRetried(int jdk) throws Exception {
        assumeTrue(jdk == 17 || ofTheJdk(), "a library: JDK 17 only");
        ConnectRetryIT.assertRetriedUntilTheServerStarts(jvms, jdk, retryNames());
    }

    // ---- leaks ----

    @Test
    void aHeldResponseIsReportedWithItsLineAndItsLateReturnIsLogged() {
        assertHold(17);
    }

    @Test
    void droppedResponsesAreReportedAsGarbageAndTheirSlotsComeBack() {
        assumeTrue(dropsBecomeGarbage(), "no drop mode: the client keeps its connections reachable");
        assertDrop(17);
    }

    @Test
    void threeIdenticalLeaksAreReportedWithOneStack() {
        assumeTrue(dropsBecomeGarbage(), "no drop mode: the client keeps its connections reachable");
        int leaks = 3;
        int port = LEAK_SERVER.port();
        AppOutput out = runDrop(17, leaks);
        String site = leakSite(out);
        List<Report> all = LeakReports.parse(out.stderrLines());
        softly(out, softly -> {
            softly.assertThat(out.result()).as("the %d requests after the leaks (failures %s)", AFTER, out.failReasons())
                    .containsEntry("ok", String.valueOf(AFTER)).containsEntry("failed", "0");
            softly.assertThat(LeakReports.stackLinesNaming(out.stderrLines(), site))
                    .as("stack lines naming %s: %d identical leaks must show their stack once", site, leaks)
                    .isEqualTo(1);
            List<Report> withStack = all.stream().filter(r -> r.stackNames(site)).collect(Collectors.toList());
            softly.assertThat(withStack).as("reports whose stack names %s", site).hasSize(1);
            softly.assertThat(withStack).as("the report with the stack is a [garbage] one")
                    .allSatisfy(r -> assertThat(r.kind()).isEqualTo("garbage"));
            softly.assertThat(all)
                    .as("every leak report names host and client as 127.0.0.1:%d (%s); none reports the same leak again"
                            + " as another kind of connection", port, client())
                    .allSatisfy(r -> assertThat(r.headline()).contains("127.0.0.1:" + port + " (" + client() + ")"));
            softly.assertThat(jmxLeaks(softly, out, port)).as("JMX Leaks counts every leak, logged or not")
                    .isGreaterThanOrEqualTo(leaks);
        });
    }

    @Test
    void aSlowDownloadIsNotALeak() {
        int port = LEAK_SERVER.port();
        int slowMs = 4_000;
        AppOutput out = jvms.run(agentJvm(17, "1s", 2)
                .args("--port", port, "--mode", "slow", "--slow-ms", slowMs, "--chunks", 16, "--slow-bytes", 65_536,
                        "--jmx"), CHILD_TIMEOUT);
        String why = LeakReports.connguardLines(out);
        assertThat(out.exitCode()).as(why).isZero();
        Map<String, String> slow = out.tagged("SLOW").orElseThrow(() -> new AssertionError("no SLOW line\n" + why));
        softly(out, softly -> {
            softly.assertThat(slow.get("bytes")).as("the download completed").isEqualTo(slow.get("expected"));
            softly.assertThat(Long.parseLong(slow.get("ms"))).as("the download outlasted the 1s threshold several times")
                    .isGreaterThanOrEqualTo(slowMs - 500L);
            softly.assertThat(out.stderrLines()).as("no leak report while the body keeps flowing")
                    .noneMatch(l -> l.contains(LeakReports.MARKER));
            softly.assertThat(jmxLeaks(softly, out, port)).as("JMX Leaks").isZero();
        });
    }

    @Test
    void aProgramThatClosesEverythingIsNeverReported() {
        int port = LEAK_SERVER.port();
        AppOutput out = jvms.run(agentJvm(17, "1s", 2)
                .args("--port", port, "--mode", "clean", "--seconds", 8, "--threads", 2, "--pause-ms", 1_500, "--jmx"),
                CHILD_TIMEOUT);
        String why = LeakReports.connguardLines(out);
        assertThat(out.exitCode()).as(why).isZero();
        softly(out, softly -> {
            softly.assertThat(out.failed()).as("failed requests %s", out.failReasons()).isZero();
            softly.assertThat(out.ok()).as("requests that succeeded").isGreaterThanOrEqualTo(10);
            softly.assertThat(out.stderrLines()).as("no leak report at all from a program that closes everything")
                    .noneMatch(l -> l.contains(LeakReports.MARKER));
            softly.assertThat(jmxLeaks(softly, out, port)).as("JMX Leaks").isZero();
        });
    }

    /** Hold mode on this JDK: one [age] report naming the line, in time, then one [returned]. */
    void assertHold(int jdk) {
        int port = LEAK_SERVER.port();
        AppOutput out = jvms.run(agentJvm(jdk, HOLD_THRESHOLD_MS / 1000 + "s", 4)
                .args("--port", port, "--mode", "hold", "--hold-ms", HOLD_MS, "--jmx"), CHILD_TIMEOUT);
        String why = LeakReports.connguardLines(out);
        assertThat(out.exitCode()).as(why).isZero();
        assertThat(out.lines()).as(why).contains("LEAKAPP done");
        assertThat(out.tagged("AFTER")).as("a request after the late close\n%s", why)
                .hasValueSatisfying(a -> assertThat(a).containsEntry("ok", "1"));
        String site = leakSite(out);
        List<Report> reports = forHost(out, port);
        List<Report> age = LeakReports.ofKind(reports, "age");
        List<Report> returned = LeakReports.ofKind(reports, "returned");
        Map<String, String> mbean = out.hostMBean(port).orElse(Map.of());
        long since = Long.parseLong(out.tagged("HOLDING").orElseThrow().get("since"));

        softly(out, softly -> {
            softly.assertThat(age).as("one [age] report for the one held response").hasSize(1);
            for (Report report : age.subList(0, Math.min(1, age.size()))) {
                softly.assertThat(report.headline()).as("the [age] line")
                        .contains("WARN", "127.0.0.1:" + port + " (" + client() + ")",
                                "CONNGUARD_LEAK_THRESHOLD=" + HOLD_THRESHOLD_MS / 1000 + "s");
                if (borrowsOnCallerThread()) {
                    softly.assertThat(report.headline()).as("the [age] line names the borrowing thread")
                            .contains("thread \"main\"");
                }
                softly.assertThat(report.stackNames(site)).as("the [age] report's stack names the leaking line %s", site)
                        .isTrue();
                softly.assertThat(report.ageMillis()).as("the age in the [age] line")
                        .hasValueSatisfying(ms -> assertThat(ms).isBetween((long) HOLD_THRESHOLD_MS, HOLD_THRESHOLD_MS + REPORT_SLACK_MS));
                report.loggedAt().ifPresent(at -> softly.assertThat(at.toEpochMilli() - since)
                        .as("ms from the borrow to the [age] line")
                        .isBetween(HOLD_THRESHOLD_MS - 500L, HOLD_THRESHOLD_MS + REPORT_SLACK_MS));
                softly.assertThat(returned).as("[returned] after [age]")
                        .allSatisfy(back -> assertThat(back.index()).isGreaterThan(report.index()));
            }
            softly.assertThat(returned).as("one [returned] line once the held response was closed").hasSize(1);
            softly.assertThat(returned).as("the [returned] line").allSatisfy(back -> {
                assertThat(back.headline()).contains("127.0.0.1:" + port + " (" + client() + ")", "reported as leaked", "came back after");
                assertThat(back.backAfterMillis()).hasValueSatisfying(ms -> assertThat(ms).isPositive());
            });
            softly.assertThat(LeakReports.ofKind(reports, "garbage")).as("no [garbage]: the held response stayed reachable")
                    .isEmpty();

            softly.assertThat(mbean).as("JMX while held").containsKeys("Leaks", "InUse", "OldestLeaseAgeMillis");
            softly.assertThat(number(mbean, "Leaks")).as("JMX Leaks %s", mbean).isGreaterThanOrEqualTo(1);
            softly.assertThat(number(mbean, "InUse")).as("JMX InUse while held %s", mbean).isGreaterThanOrEqualTo(1);
            softly.assertThat(number(mbean, "OldestLeaseAgeMillis")).as("JMX OldestLeaseAgeMillis while held %s", mbean)
                    .isGreaterThanOrEqualTo(HOLD_THRESHOLD_MS);
            softly.assertThat(out.lines()).as("listLeaks() over JMX names the leaking line %s", site)
                    .anyMatch(l -> l.startsWith("JMXLEAK ") && l.contains(site));
        });
    }

    /** Drop mode on this JDK with two leaks and a limit of two. */
    void assertDrop(int jdk) {
        int leaks = 2;
        int port = LEAK_SERVER.port();
        AppOutput out = runDrop(jdk, leaks);
        String site = leakSite(out);
        List<Report> garbage = LeakReports.ofKind(forHost(out, port), "garbage");
        softly(out, softly -> {
            softly.assertThat(out.result()).as("the %d requests after the leaks (failures %s)", AFTER, out.failReasons())
                    .containsEntry("ok", String.valueOf(AFTER)).containsEntry("failed", "0");
            softly.assertThat(garbage).as("[garbage] reports for the dropped responses").isNotEmpty();
            // "... to 127.0.0.1:PORT (CLIENT) became garbage without ...; ... slot given back": the wording
            // after that varies by client (HttpURLConnection's slot is given back, a pooled connection is
            // also retired); the later requests prove the slots really came back.
            softly.assertThat(garbage).as("the [garbage] lines name host and client as 127.0.0.1:%d (%s)", port, client())
                    .allSatisfy(r -> assertThat(r.headline())
                            .contains("127.0.0.1:" + port + " (" + client() + ")", "became garbage", "given back"));
            for (Report first : garbage.subList(0, Math.min(1, garbage.size()))) {
                softly.assertThat(first.headline()).as("the first [garbage] line").contains("WARN");
                softly.assertThat(first.stackNames(site)).as("the [garbage] report's stack names the leaking line %s", site)
                        .isTrue();
            }
            softly.assertThat(jmxLeaks(softly, out, port)).as("JMX Leaks").isGreaterThanOrEqualTo(leaks);
        });
    }

    /** Drop mode: {@code leaks} responses dropped under a host limit and a pool maximum of {@code leaks}. */
    AppOutput runDrop(int jdk, int leaks) {
        AppOutput out = jvms.run(agentJvm(jdk, "30s", leaks) // a long threshold: only the garbage detector speaks
                .args("--port", LEAK_SERVER.port(), "--mode", "drop", "--leaks", leaks, "--pool-max", leaks, "--after", AFTER,
                        "--timeout-ms", 10_000, "--gc-seconds", 40, "--jmx"), CHILD_TIMEOUT);
        String why = LeakReports.connguardLines(out);
        assertThat(out.exitCode()).as(why).isZero();
        assertThat(out.lines()).as(why).contains("LEAKAPP done");
        assertThat(out.tagged("LEAKED")).as(why).hasValueSatisfying(l -> assertThat(l).containsEntry("count", String.valueOf(leaks)));
        return out;
    }

    JvmProcess.Builder agentJvm(int jdk, String threshold, int hostLimit) {
        return jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=" + hostLimit)
                .env("CONNGUARD_LEAK_THRESHOLD", threshold)
                .env("CONNGUARD_LEAK_STACKS", "all")
                .main(LeakScenario.class).args("--client", name());
    }

    /** {@code Apache4Driver.java:48} from the app's {@code LEAKSITE} line. */
    String leakSite(AppOutput out) {
        Map<String, String> site = out.tagged("LEAKSITE").orElseThrow(() -> new AssertionError("no LEAKSITE line\n" + out.describe()));
        assertThat(site.get("file")).as(out.describe()).isEqualTo(driver().getSimpleName() + ".java");
        assertThat(Integer.parseInt(site.get("line"))).as(out.describe()).isPositive();
        return site.get("file") + ":" + site.get("line");
    }

    static List<Report> forHost(AppOutput out, int port) {
        return LeakReports.parse(out.stderrLines()).stream().filter(r -> r.isFor(port)).collect(Collectors.toList());
    }

    /**
     * Runs every check; when some fail, one error lists them all, then the JVM's connguard lines and
     * stdout once, so a failure shows every way the run departs from the contract at the same time.
     */
    static void softly(AppOutput out, Consumer<SoftAssertions> checks) {
        SoftAssertions softly = new SoftAssertions();
        checks.accept(softly);
        List<AssertionError> errors = softly.assertionErrorsCollected();
        if (!errors.isEmpty()) {
            StringBuilder sb = new StringBuilder().append(errors.size()).append(" check(s) failed:\n");
            for (int i = 0; i < errors.size(); i++) {
                sb.append(i + 1).append(") ").append(errors.get(i).getMessage().strip()).append("\n");
            }
            sb.append('\n').append(LeakReports.connguardLines(out));
            throw new AssertionError(sb.toString());
        }
    }

    /** The Host MBean's Leaks, -1 when the MBean or the attribute is missing (which {@code softly} records). */
    static long jmxLeaks(SoftAssertions softly, AppOutput out, int port) {
        Map<String, String> mbean = out.hostMBean(port).orElse(Map.of());
        softly.assertThat(mbean).as("the Host MBean of 127.0.0.1:%d (JMX lines %s)", port, out.jmxHostLines())
                .containsKey("Leaks");
        return number(mbean, "Leaks");
    }

    /** A numeric attribute, -1 when missing (a containsKey check says so). */
    static long number(Map<String, String> mbean, String attribute) {
        String value = mbean.get(attribute);
        return value == null ? -1 : Long.parseLong(value);
    }
}

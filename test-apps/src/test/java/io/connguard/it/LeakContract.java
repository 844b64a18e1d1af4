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

import io.connguard.it.LeakReports.Report;

/**
 * The leak-report contract, run against one client by each {@code Leak*IT}: a real application
 * ({@code io.connguard.testapps.leak.Leaky*}) that forgets to close a response in one known place,
 * in its own JVM with the agent. The app prints that place ({@code LEAKSITE file=... line=...}),
 * so no line number is written down here.
 * <ul>
 *   <li>hold: the response is held past {@code CONNGUARD_LEAK_THRESHOLD=2s}, then closed: one
 *       {@code leak [age]} WARN whose stack names the leaking line, logged within the threshold and
 *       a few seconds, then one {@code leak [returned]}; JMX shows it (Leaks, InUse,
 *       OldestLeaseAgeMillis, listLeaks());</li>
 *   <li>drop: responses dropped without close under a host limit equal to their number:
 *       {@code leak [garbage]} naming the line, and the five requests that follow all succeed
 *       because the leaked connections are retired and their slots given back;</li>
 *   <li>three identical leaks: their stack is logged once (JMX still counts three);</li>
 *   <li>a slow download that outlasts the threshold but keeps receiving bytes: no report;</li>
 *   <li>a program that closes everything, pauses longer than the threshold and collects garbage: no report.</li>
 * </ul>
 */
abstract class LeakContract {

    static final int HOLD_THRESHOLD_MS = 2_000;
    /** How long the app holds the leaked response: the report must come well before it is closed. */
    static final int HOLD_MS = HOLD_THRESHOLD_MS + 4_000;
    /** An [age] report may come this much later than the threshold (the detector looks periodically). */
    static final long REPORT_SLACK_MS = 3_000;
    static final Duration CHILD_TIMEOUT = Duration.ofSeconds(90);
    static final int AFTER = 5;

    @RegisterExtension
    final Jvms jvms = new Jvms();

    /** The app's main class, e.g. {@code LeakyApache4.class}. */
    abstract Class<?> app();

    /** The client's name in the reports, e.g. {@code Apache HttpClient 4}. */
    abstract String client();

    /** The test class's own server (a static {@code @RegisterExtension} field of the subclass). */
    abstract HarborServer server();

    /** False for {@code java.net.http.HttpClient}: its leaked connections never become garbage. */
    boolean dropsBecomeGarbage() {
        return true;
    }

    /** False where the pool lends the connection on another thread than the caller's. */
    boolean borrowsOnCallerThread() {
        return true;
    }

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
        int port = server().port();
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
        int port = server().port();
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
        int port = server().port();
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
        int port = server().port();
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
        int port = server().port();
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
                .args("--port", server().port(), "--mode", "drop", "--leaks", leaks, "--pool-max", leaks, "--after", AFTER,
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
                .main(app());
    }

    /** {@code LeakyApache4.java:48} from the app's {@code LEAKSITE} line. */
    String leakSite(AppOutput out) {
        Map<String, String> site = out.tagged("LEAKSITE").orElseThrow(() -> new AssertionError("no LEAKSITE line\n" + out.describe()));
        assertThat(site.get("file")).as(out.describe()).isEqualTo(app().getSimpleName() + ".java");
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

package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.params.provider.Arguments;

/** The storm every load test uses, and the checks shared by them. */
final class Storm {

    static final int CAP = 8;
    static final int DELAY_MS = 40;
    static final int THREADS = 64;
    static final int REQUESTS = 5;
    static final int TOTAL = THREADS * REQUESTS;
    static final String HOST_LIMITS = "127.0.0.1=" + CAP;

    static final int[] JDKS = {17, 25};

    private Storm() {
    }

    static Stream<Arguments> jdksAndKinds(String... kinds) {
        return Stream.of(kinds).flatMap(kind -> IntStream.of(JDKS).mapToObj(jdk -> Arguments.of(jdk, kind)));
    }

    /** The arguments of a LoadClient or ChannelApp run against the server. */
    static Object[] loadArgs(HarborServer server, String kind, boolean jmx) {
        Object[] base = {"--kind", kind, "--url", server.url(), "--threads", THREADS, "--requests", REQUESTS,
                "--request-timeout-ms", 30_000, "--deadline-ms", 90_000};
        if (!jmx) {
            return base;
        }
        Object[] withJmx = Arrays.copyOf(base, base.length + 1);
        withJmx[base.length] = "--jmx";
        return withJmx;
    }

    /** Without ConnGuard the storm overwhelms the server: it refuses requests and clients fail. */
    static void assertOverwhelmed(AppOutput out, HarborServer server) {
        assertThat(out.exitCode()).as("exit code of %s", out.process().name()).isZero();
        assertThat(out.ok() + out.failed()).as("every request accounted for: %s", out.describe()).isEqualTo(TOTAL);
        Map<String, Long> stats = server.stats();
        assertThat(out.failed()).as("failed requests without the agent: %s", out.describe()).isPositive();
        assertThat(stats.get("refused")).as("server refusals (stats %s)", stats).isPositive();
        assertThat(stats.get("peak")).as("server peak connections (stats %s)", stats).isGreaterThan((long) CAP);
    }

    /** With ConnGuard the clients queue: nothing fails and the server never sees more than the cap. */
    static void assertGoverned(AppOutput out, HarborServer server) {
        assertThat(out.exitCode()).as("exit code of %s", out.process().name()).isZero();
        Map<String, Long> stats = server.stats();
        assertThat(out.failed()).as("failed requests with the agent: %s\nserver %s", out.describe(), stats).isZero();
        assertThat(out.ok()).as("successful requests: %s", out.describe()).isEqualTo(TOTAL);
        assertThat(stats.get("refused")).as("server refusals (stats %s)", stats).isZero();
        assertThat(stats.get("peak")).as("server peak connections (stats %s)", stats).isLessThanOrEqualTo((long) CAP);
        assertThat(stats.get("connections")).as("server connections (stats %s)", stats).isPositive();
    }

    /**
     * The Host MBean the client printed with --jmx: Limit=8, PeakOpen at most 8, no queue timeouts
     * or connects let past the limit, and as many connects as TCP connections the server accepted.
     */
    static void assertHostMBean(AppOutput out, HarborServer server) {
        Map<String, String> host = out.hostMBean(server.port()).orElseThrow(() -> new AssertionError(
                "no io.connguard:type=Host MBean for 127.0.0.1:" + server.port() + " in the --jmx output: " + out.describe()));
        assertThat(host).as("Host MBean attributes").containsKeys("Limit", "PeakOpen", "Connects");
        assertThat(Long.parseLong(host.get("Limit"))).as("Limit %s", host).isEqualTo(CAP);
        assertThat(Long.parseLong(host.get("PeakOpen"))).as("PeakOpen %s", host).isBetween(1L, (long) CAP);
        assertThat(Long.parseLong(host.get("Connects"))).as("Connects %s", host).isGreaterThanOrEqualTo(1L);
        Map<String, Long> stats = server.stats();
        assertThat(Long.parseLong(host.get("Connects"))).as("JMX Connects %s vs the server's %s", host, stats)
                .isEqualTo(stats.get("connections"));
        assertThat(host).as("Host MBean attributes").containsEntry("QueueTimeouts", "0").containsEntry("Ungoverned", "0");
    }
}

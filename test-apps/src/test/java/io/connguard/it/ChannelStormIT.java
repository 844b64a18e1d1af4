package io.connguard.it;

import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.client.ChannelApp;

/** The storm with {@code SocketChannel} connects, blocking and non-blocking (selector + finishConnect). */
class ChannelStormIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    static Stream<Arguments> jdksAndKinds() {
        return Storm.jdksAndKinds("channel-blocking");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"channel-blocking", "channel-nonblocking"})
    void withoutTheAgentTheServerRefusesRequests(String kind) {
        AppOutput out = jvms.run(jvms.java(17).main(ChannelApp.class).args(Storm.loadArgs(SERVER, kind, false)));

        Storm.assertOverwhelmed(out, SERVER);
    }

    @ParameterizedTest(name = "jdk{0}-{1}")
    @MethodSource("jdksAndKinds")
    void withTheAgentEveryRequestSucceedsAndTheServerStaysAtTheCap(int jdk, String kind) {
        AppOutput out = jvms.run(jvms.java(jdk).agent().env("CONNGUARD_HOST_LIMITS", Storm.HOST_LIMITS)
                .main(ChannelApp.class).args(Storm.loadArgs(SERVER, kind, true)));

        Storm.assertGoverned(out, SERVER);
        Storm.assertHostMBean(out, SERVER);
    }

    /**
     * A non-blocking connect never waits (its caller is usually a selector loop): within the limit
     * it takes a slot, beyond it it goes ahead, counted as Ungoverned and logged once. Every
     * connection the server saw is accounted for in JMX.
     */
    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void withTheAgentANonBlockingConnectIsCountedButNeverWaits(int jdk) {
        AppOutput out = jvms.run(jvms.java(jdk).agent().env("CONNGUARD_HOST_LIMITS", Storm.HOST_LIMITS)
                .main(ChannelApp.class).args(Storm.loadArgs(SERVER, "channel-nonblocking", true)));

        assertThat(out.ok() + out.failed()).as("every request accounted for: %s", out.describe()).isEqualTo(Storm.TOTAL);
        Map<String, String> host = out.hostMBean(SERVER.port()).orElseThrow(() -> new AssertionError(
                "no Host MBean for the server: " + out.describe()));
        Map<String, Long> stats = SERVER.stats();
        assertThat(host).as("nothing waited").containsEntry("Waits", "0").containsEntry("QueueTimeouts", "0");
        long connects = Long.parseLong(host.get("Connects"));
        long ungoverned = Long.parseLong(host.get("Ungoverned"));
        assertThat(ungoverned).as("connects beyond the limit went ahead: %s", host).isPositive();
        assertThat(connects + ungoverned).as("JMX %s vs server %s", host, stats).isEqualTo(stats.get("connections"));
        assertThat(out.stderrLines()).as(out.describe())
                .anyMatch(l -> l.contains("connguard") && l.contains("never wait") && l.contains("Ungoverned"));
    }
}

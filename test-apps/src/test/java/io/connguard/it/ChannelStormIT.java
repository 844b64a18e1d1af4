package io.connguard.it;

import java.util.stream.Stream;

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
        return Storm.jdksAndKinds("channel-blocking", "channel-nonblocking");
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
}

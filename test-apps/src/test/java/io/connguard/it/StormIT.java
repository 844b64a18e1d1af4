package io.connguard.it;

import java.util.stream.Stream;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.connguard.testapps.client.LoadClient;

/**
 * 64 threads x 5 GETs against a Harbor-like server that refuses beyond 8 open connections, on JDK
 * 17 and 25, with raw sockets (a fresh connect per request): without the agent requests fail; with
 * the agent and {@code CONNGUARD_HOST_LIMITS=127.0.0.1=8} none does and the server never sees more
 * than 8. The same storm with each HTTP client is {@link ClientContract}'s cap case.
 */
class StormIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    static Stream<Arguments> jdksAndKinds() {
        return Storm.jdksAndKinds("socket");
    }

    @ParameterizedTest(name = "jdk{0}-{1}")
    @MethodSource("jdksAndKinds")
    void withoutTheAgentTheServerRefusesRequests(int jdk, String kind) {
        AppOutput out = jvms.run(jvms.java(jdk).main(LoadClient.class).args(Storm.loadArgs(SERVER, kind, false)));

        Storm.assertOverwhelmed(out, SERVER);
    }

    @ParameterizedTest(name = "jdk{0}-{1}")
    @MethodSource("jdksAndKinds")
    void withTheAgentEveryRequestSucceedsAndTheServerStaysAtTheCap(int jdk, String kind) {
        AppOutput out = jvms.run(jvms.java(jdk).agent().env("CONNGUARD_HOST_LIMITS", Storm.HOST_LIMITS)
                .main(LoadClient.class).args(Storm.loadArgs(SERVER, kind, true)));

        Storm.assertGoverned(out, SERVER);
        Storm.assertHostMBean(out, SERVER);
    }
}

package io.connguard.it;

import io.connguard.testapps.client.LeakApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code SocketChannel}s dropped without {@code close()}: the JDK never closes their descriptors
 * (unlike a {@code Socket}'s, which a cleaner closes). With the agent, each is reported with the
 * line that opened it, its descriptor is closed and its slot comes back; without it, the
 * descriptors stay open for good.
 */
class ChannelLeakIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, 1);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void leakedChannelsAreReportedClosedAndTheirSlotsComeBack(int jdk) {
        AppOutput out = jvms.run(jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=3")
                .env("CONNGUARD_LEAK_STACKS", "all")
                .main(LeakApp.class)
                .args("--host", "127.0.0.1", "--port", SERVER.port(), "--count", 3, "--gc-seconds", 15, "--channels"));

        assertThat(out.exitCode()).as(out.describe()).isZero();
        assertThat(out.tagged("REOPENED")).as(out.describe()).hasValueSatisfying(r -> assertThat(r).containsEntry("ok", "3"));
        assertThat(out.tagged("LEAKFDS")).as(out.describe()).hasValueSatisfying(r -> assertThat(r).containsEntry("left", "0"));
        assertThat(String.join("\n", out.stderrLines())).as(out.describe())
                .contains("leak [garbage]: a SocketChannel to 127.0.0.1:" + SERVER.port())
                .contains("its file descriptor closed")
                .contains("opened at:")
                .containsPattern("\tat io\\.connguard\\.testapps\\.client\\.LeakApp\\.leak\\(LeakApp\\.java:\\d+\\)");
    }

    @Test
    void withoutTheAgentTheDescriptorsStayOpen() {
        AppOutput out = jvms.run(jvms.java(17)
                .main(LeakApp.class)
                .args("--host", "127.0.0.1", "--port", SERVER.port(), "--count", 3, "--gc-seconds", 2, "--channels"));

        assertThat(out.exitCode()).as(out.describe()).isZero();
        assertThat(out.tagged("LEAKFDS")).as(out.describe()).hasValueSatisfying(r -> assertThat(r).containsEntry("left", "3"));
    }
}

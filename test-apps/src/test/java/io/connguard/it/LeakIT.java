package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.client.LeakApp;

/**
 * Three sockets dropped without close under a limit of 3: ConnGuard reports the leak and gives
 * the slots back once they are garbage, so three new connects succeed.
 */
class LeakIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @Test
    void withoutTheAgentNothingIsReported() {
        AppOutput out = jvms.run(jvms.java(17).main(LeakApp.class)
                .args("--host", "127.0.0.1", "--port", SERVER.port(), "--count", 3, "--gc-seconds", 10));

        assertThat(out.exitCode()).isZero();
        assertThat(out.tagged("REOPENED")).as(out.describe()).hasValueSatisfying(r -> assertThat(r).containsEntry("ok", "3"));
        assertThat(out.lines()).contains("LEAKAPP done");
        assertThat(out.stderrLines()).noneMatch(LeakIT::isLeakReport);
    }

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void leakedSocketsAreReportedAndTheirSlotsComeBack(int jdk) {
        AppOutput out = jvms.run(jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=3")
                .main(LeakApp.class)
                .args("--host", "127.0.0.1", "--port", SERVER.port(), "--count", 3, "--gc-seconds", 10, "--jmx"));

        assertThat(out.exitCode()).isZero();
        assertThat(out.lines()).as(out.describe()).contains("LEAKAPP done");
        assertThat(out.stderrLines()).as("a connguard leak report on stderr of %s", out.process().name())
                .anyMatch(LeakIT::isLeakReport);
        assertThat(out.tagged("REOPENED")).as(out.describe()).hasValueSatisfying(r -> assertThat(r).containsEntry("ok", "3"));
    }

    private static boolean isLeakReport(String line) {
        String lower = line.toLowerCase(Locale.ROOT);
        return lower.contains("connguard") && lower.contains("leak");
    }
}

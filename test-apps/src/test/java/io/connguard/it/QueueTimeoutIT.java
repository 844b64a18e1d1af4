package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.client.QueueTimeoutApp;

/**
 * Limit 1 and a 500 ms queue timeout: while one connection is held, a second connect waits about
 * 500 ms and then fails with {@code io.connguard.ConnectionLimitException}, a {@code ConnectException}
 * whose message names the host, the limit and the setting to change.
 */
class QueueTimeoutIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @Test
    void withoutTheAgentTheSecondConnectSucceeds() {
        AppOutput out = jvms.run(jvms.java(17).main(QueueTimeoutApp.class)
                .args("--host", "127.0.0.1", "--port", SERVER.port()));

        assertThat(out.exitCode()).isZero();
        assertThat(out.lines()).as(out.describe()).contains("FIRST connected", "CONNECTED", "ISCONNECTEXCEPTION=false");
    }

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void aConnectThatCannotGetASlotInTimeFailsWithConnectionLimitException(int jdk) {
        AppOutput out = jvms.run(jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=1")
                .env("CONNGUARD_QUEUE_TIMEOUT", "500ms")
                .main(QueueTimeoutApp.class)
                .args("--host", "127.0.0.1", "--port", SERVER.port(), "--max-wait-ms", 20_000));

        assertThat(out.exitCode()).isZero();
        String exception = out.lines().stream().filter(l -> l.startsWith("EXCEPTION ")).findFirst()
                .orElseThrow(() -> new AssertionError("the second connect did not fail: " + out.describe()));
        String type = between(exception, "class=", " message=");
        String message = exception.substring(exception.indexOf(" message=") + " message=".length());
        assertThat(type).as(exception).isEqualTo("io.connguard.ConnectionLimitException");
        assertThat(out.lines()).as(out.describe()).contains("ISCONNECTEXCEPTION=true");
        assertThat(message).as("message names the host").contains("127.0.0.1");
        assertThat(message).as("message names the setting to change").contains("CONNGUARD_");
        String withoutAddress = message.replace("127.0.0.1", " ").replace(String.valueOf(SERVER.port()), " ");
        assertThat(withoutAddress).as("message names the limit (1)").containsPattern("(?<![\\d.])1(?![\\d.])");
        long waited = Long.parseLong(valueOf(out, "WAITEDMS="));
        assertThat(waited).as("time the second connect waited").isBetween(400L, 15_000L);
    }

    private static String valueOf(AppOutput out, String prefix) {
        return out.lines().stream().filter(l -> l.startsWith(prefix)).findFirst()
                .map(l -> l.substring(prefix.length()))
                .orElseThrow(() -> new AssertionError("no " + prefix + " line: " + out.describe()));
    }

    private static String between(String text, String start, String end) {
        int from = text.indexOf(start);
        int to = text.indexOf(end, from + start.length());
        return from < 0 ? "" : text.substring(from + start.length(), to < 0 ? text.length() : to);
    }
}

package io.connguard.it;

import io.connguard.testapps.client.SelectorThreadApp;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code java.net.http.HttpClient} connecting on its own {@code SelectorManager} thread (a redirect
 * followed with a direct executor) while the target host is at its limit: the connect must not
 * wait, or the client's selector loop would freeze for the queue timeout. It goes ahead over the
 * limit, counted as Ungoverned and logged once.
 */
class SelectorThreadIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void aConnectOnTheSelectorThreadNeverWaits(int jdk) {
        AppOutput out = jvms.run(jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=1")
                .env("CONNGUARD_QUEUE_TIMEOUT", "20s")
                .main(SelectorThreadApp.class)
                .args("--host", "127.0.0.1", "--port", SERVER.port()));

        Map<String, String> result = out.result();
        assertThat(result).as(out.describe()).containsEntry("status", "200");
        assertThat(Long.parseLong(result.get("elapsedMs"))).as("the redirect did not wait for the 20 s queue timeout")
                .isLessThan(10_000L);
        assertThat(out.stderrLines()).as(out.describe())
                .anyMatch(l -> l.contains("connguard") && l.contains("thread \"HttpClient-")
                        && l.contains("SelectorManager") && l.contains("never wait"));
        Map<String, String> host = out.hostMBean(SERVER.port())
                .orElseThrow(() -> new AssertionError("no Host MBean for the server: " + out.describe()));
        assertThat(host).containsEntry("Ungoverned", "1").containsEntry("Limit", "1");
    }
}

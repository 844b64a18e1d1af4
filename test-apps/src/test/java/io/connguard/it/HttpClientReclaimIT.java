package io.connguard.it;

import io.connguard.testapps.client.HttpClientReclaimApp;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reclaiming an idle {@code java.net.http.HttpClient} connection closes it the way the client
 * does ({@code HttpConnection.close()}), so the client forgets it: after 20 reclaims the client
 * remembers at most the connection it still has, not 20 dead ones. JDK updates without that set
 * ({@code HttpClientImpl.openedConnections}, absent in 17.0.15) have nothing to remember; there
 * only the reclaims are checked.
 */
class HttpClientReclaimIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, 1);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void aReclaimedConnectionIsForgottenByTheClient(int jdk) {
        AppOutput out = jvms.run(jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=1")
                .env("CONNGUARD_QUEUE_TIMEOUT", "10s")
                .jvmArg("--add-opens=java.net.http/jdk.internal.net.http=ALL-UNNAMED")
                .main(HttpClientReclaimApp.class)
                .args("--url", SERVER.url(), "--rounds", 20));

        Map<String, String> result = out.tagged("RECLAIMAPP")
                .orElseThrow(() -> new AssertionError("no RECLAIMAPP line: " + out.describe()));
        assertThat(result).as(out.describe()).containsEntry("ok", "20");
        assertThat(result.get("opened")).as("the test reads HttpClientImpl.openedConnections").isNotEqualTo("unknown");
        if ("absent".equals(result.get("opened"))) {
            // This JDK update (17.0.15, say) has no HttpClientImpl.openedConnections: the client keeps
            // no set of its connections, so a reclaimed one cannot be remembered. The reclaims are
            // still checked below.
            System.out.println("jdk" + jdk + ": HttpClientImpl has no openedConnections; nothing to remember");
        } else {
            assertThat(Integer.parseInt(result.get("opened"))).as("connections the client still remembers: %s", result)
                    .isLessThanOrEqualTo(1);
        }
        Map<String, String> host = out.hostMBean(SERVER.port())
                .orElseThrow(() -> new AssertionError("no Host MBean: " + out.describe()));
        assertThat(Long.parseLong(host.get("Reclaimed"))).as("reclaims: %s", host).isGreaterThanOrEqualTo(19L);
    }
}

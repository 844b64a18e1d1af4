package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.client.HttpClientReclaimApp;
import io.connguard.testapps.client.LoadClient;
import io.connguard.testapps.clients.ClientDriver;
import io.connguard.testapps.clients.JdkHttpClientDriver;

/**
 * {@link ClientContract} for {@code java.net.http.HttpClient} ({@link JdkHttpClientDriver}), sync and
 * async ({@code jdk-async}, in the same JVM as {@code jdk} for the retry cases). Its storm runs with
 * one client shared by every thread and, below, with one per thread. Only the age detector applies
 * to its leaks: the client keeps its connections reachable from its selector thread, so a dropped
 * response never becomes garbage and there is no drop mode.
 */
class JdkHttpClientIT extends ClientContract {

    @RegisterExtension
    static final HarborServer RECLAIM_SERVER = new HarborServer(Storm.CAP, 1);

    @Override
    String name() {
        return "jdk";
    }

    @Override
    Class<? extends ClientDriver> driver() {
        return JdkHttpClientDriver.class;
    }

    @Override
    String client() {
        return "java.net.http.HttpClient";
    }

    @Override
    String perThreadKind() {
        return "httpclient-per-thread";
    }

    @Override
    String stormKind() {
        return "httpclient-shared";
    }

    @Override
    boolean ofTheJdk() {
        return true;
    }

    @Override
    List<String> retryNames() {
        return List.of("jdk", "jdk-async");
    }

    /** The connection may be taken from the pool on one of the client's executor threads. */
    @Override
    boolean borrowsOnCallerThread() {
        return false;
    }

    @Override
    boolean dropsBecomeGarbage() {
        return false;
    }

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void withoutTheAgentTheStormWithAClientPerThreadOverwhelmsTheServer(int jdk) {
        AppOutput out = jvms.run(jvms.java(jdk).main(LoadClient.class)
                .args(Storm.loadArgs(LOAD_SERVER, "httpclient-per-thread", false)));

        Storm.assertOverwhelmed(out, LOAD_SERVER);
    }

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void withAClientPerThreadEveryRequestSucceedsAndTheServerStaysAtTheCap(int jdk) {
        assertStorm(jdk, "httpclient-per-thread");
    }

    @Test
    void aHeldResponseIsReportedOnJdk25() {
        assertHold(25);
    }

    /**
     * Reclaiming an idle connection closes it the way the client does ({@code HttpConnection.close()}),
     * so the client forgets it: after 20 reclaims the client remembers at most the connection it still
     * has, not 20 dead ones. JDK updates without that set ({@code HttpClientImpl.openedConnections},
     * absent in 17.0.15) have nothing to remember; there only the reclaims are checked.
     */
    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void aReclaimedConnectionIsForgottenByTheClient(int jdk) {
        AppOutput out = jvms.run(jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=1")
                .env("CONNGUARD_QUEUE_TIMEOUT", "10s")
                .jvmArg("--add-opens=java.net.http/jdk.internal.net.http=ALL-UNNAMED")
                .main(HttpClientReclaimApp.class)
                .args("--url", RECLAIM_SERVER.url(), "--rounds", 20));

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
        Map<String, String> host = out.hostMBean(RECLAIM_SERVER.port())
                .orElseThrow(() -> new AssertionError("no Host MBean: " + out.describe()));
        assertThat(Long.parseLong(host.get("Reclaimed"))).as("reclaims: %s", host).isGreaterThanOrEqualTo(19L);
    }
}

package io.connguard.it;

import io.connguard.testapps.client.LoadClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The storm over HTTPS: {@code SSLSocketImpl} connected directly (socket kind), an
 * {@code HttpURLConnection} TLS socket layered over a plain one, and {@code HttpClient} with
 * {@code SSLEngine} over a {@code SocketChannel}. Each TCP connection counts once, and idle
 * keep-alive TLS connections are reclaimed like plain ones.
 */
class TlsStormIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS, true);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    static Stream<Arguments> jdksAndKinds() {
        return Storm.jdksAndKinds("socket", "urlconnection", "httpclient-shared");
    }

    @Test
    void withoutTheAgentTheServerRefusesRequests() {
        AppOutput out = jvms.run(withTrust(jvms.java(17)).main(LoadClient.class)
                .args(Storm.loadArgs(SERVER, "urlconnection", false)));

        Storm.assertOverwhelmed(out, SERVER);
    }

    @ParameterizedTest(name = "jdk{0}-{1}")
    @MethodSource("jdksAndKinds")
    void withTheAgentEveryTlsRequestSucceedsAndTheServerStaysAtTheCap(int jdk, String kind) {
        AppOutput out = jvms.run(withTrust(jvms.java(jdk).agent()).env("CONNGUARD_HOST_LIMITS", Storm.HOST_LIMITS)
                .main(LoadClient.class).args(Storm.loadArgs(SERVER, kind, true)));

        Storm.assertGoverned(out, SERVER);
        Storm.assertHostMBean(out, SERVER);
        if (!kind.equals("socket")) {
            Map<String, String> host = out.hostMBean(SERVER.port()).orElseThrow();
            // Capacity moves to waiting requests: handed over (the JDK's keep-alive cache) or
            // reclaimed from an idle pool.
            assertThat(Long.parseLong(host.get("Reclaimed")) + Long.parseLong(host.getOrDefault("HandOvers", "0")))
                    .as("idle TLS connections handed over or reclaimed: %s", host).isPositive();
        }
    }

    private static JvmProcess.Builder withTrust(JvmProcess.Builder builder) {
        for (String property : TlsMaterial.clientProperties()) {
            builder.jvmArg(property);
        }
        return builder;
    }
}

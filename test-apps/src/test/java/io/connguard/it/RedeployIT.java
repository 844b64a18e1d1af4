package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.client.RedeployApp;

/**
 * Issue 14, pinned class loaders: an application server deploys a web application five times,
 * each in its own class loader, and each deployment connects out (the first one starts the
 * agent's lazily started threads). After the undeploys every deployment's class loader can be
 * collected, with the agent as without it, while the agent governed every connection (its Host
 * MBean counted them: a do-nothing agent has none).
 */
class RedeployIT {

    static final int DEPLOYMENTS = 5;

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, 5);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @Test
    void withoutTheAgentEveryDeploymentIsCollected() {
        AppOutput out = jvms.run(jvms.java(17).main(RedeployApp.class)
                .args("--port", SERVER.port(), "--deployments", DEPLOYMENTS));

        assertEveryDeploymentServedAndCollected(out);
    }

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void withTheAgentEveryDeploymentIsCollected(int jdk) {
        AppOutput out = jvms.run(jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=4")
                .main(RedeployApp.class)
                .args("--port", SERVER.port(), "--deployments", DEPLOYMENTS, "--jmx"));

        assertEveryDeploymentServedAndCollected(out);
        Map<String, String> host = out.hostMBean(SERVER.port())
                .orElseThrow(() -> new AssertionError("no ConnGuard Host MBean for the server:\n" + out.describe()));
        assertThat(Long.parseLong(host.get("Connects"))).as("connects the agent governed: %s", host)
                .isGreaterThanOrEqualTo(DEPLOYMENTS);
    }

    private static void assertEveryDeploymentServedAndCollected(AppOutput out) {
        assertThat(out.exitCode()).as(out.describe()).isZero();
        assertThat(out.lines().stream().filter(l -> l.startsWith("DEPLOY ")))
                .as("each deployment's request: %s", out.describe())
                .hasSize(DEPLOYMENTS).allSatisfy(l -> assertThat(l).contains("HTTP/1.1 "));
        assertThat(out.lines()).as("class loaders collected after the undeploys; threads holding one:\n%s",
                        out.describe())
                .contains("RESULT deployments=" + DEPLOYMENTS + " collected=" + DEPLOYMENTS);
    }
}

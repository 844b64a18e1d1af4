package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.client.LoadClient;

/** {@code CONNGUARD_ENABLED=false}: the agent is attached but installs nothing, exactly like no agent. */
class DisabledAgentIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void aDisabledAgentGovernsNothingAndRegistersNoMBeans(int jdk) {
        AppOutput out = jvms.run(jvms.java(jdk).agent()
                .env("CONNGUARD_ENABLED", "false")
                .env("CONNGUARD_HOST_LIMITS", Storm.HOST_LIMITS)
                .main(LoadClient.class).args(Storm.loadArgs(SERVER, "urlconnection", true)));

        Storm.assertOverwhelmed(out, SERVER);
        assertThat(out.lines()).as("no io.connguard Host MBean: %s", out.describe()).contains("JMX none");
        assertThat(out.tagged("JMXCOUNT")).as("io.connguard MBeans: %s", out.describe())
                .hasValueSatisfying(count -> assertThat(count).containsEntry("mbeans", "0"));
    }
}

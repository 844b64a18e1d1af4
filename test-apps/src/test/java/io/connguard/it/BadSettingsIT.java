package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.connguard.testapps.client.LoadClient;

/**
 * A setting that does not parse: one clear line on stderr naming the setting and the bad value, and
 * the agent carries on with that setting's default; with {@code CONNGUARD_STRICT=true} the agent
 * refuses to start, says so, and the application still runs, ungoverned.
 */
class BadSettingsIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @Test
    void aBadValueIsReportedOnOneLineAndTheAgentStillGoverns() {
        AppOutput out = jvms.run(jvms.java(17).agent()
                .env("CONNGUARD_HOST_LIMITS", Storm.HOST_LIMITS)
                .env("CONNGUARD_QUEUE_TIMEOUT", "abc")
                .main(LoadClient.class).args(Storm.loadArgs(SERVER, "socket", false)));

        assertThat(out.stderrLines()).as("stderr of %s", out.process().name())
                .anyMatch(line -> line.contains("CONNGUARD_QUEUE_TIMEOUT") && line.contains("abc"))
                .noneMatch(line -> line.startsWith("\tat "));
        Storm.assertGoverned(out, SERVER);
    }

    @Test
    void strictModeRefusesToStartTheAgentAndTheApplicationRunsUngoverned() {
        AppOutput out = jvms.run(jvms.java(17).agent()
                .env("CONNGUARD_HOST_LIMITS", Storm.HOST_LIMITS)
                .env("CONNGUARD_QUEUE_TIMEOUT", "abc")
                .env("CONNGUARD_STRICT", "true")
                .main(LoadClient.class).args(Storm.loadArgs(SERVER, "socket", false)));

        assertThat(out.stderrLines()).as("stderr of %s", out.process().name())
                .anyMatch(line -> line.contains("CONNGUARD_QUEUE_TIMEOUT") && line.contains("abc"))
                .anyMatch(line -> line.contains("CONNGUARD_STRICT"));
        Storm.assertOverwhelmed(out, SERVER);
    }
}

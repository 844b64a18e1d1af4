package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.connguard.testapps.leak.LeakyApache4;

/**
 * Leak reports for an Apache HttpClient 4 response left open.
 * See {@link LeakContract}.
 */
class LeakApache4IT extends LeakContract {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(0, 5);

    @Override
    Class<?> app() {
        return LeakyApache4.class;
    }

    @Override
    String client() {
        return "Apache HttpClient 4";
    }

    @Override
    HarborServer server() {
        return SERVER;
    }

    /** Without the agent the same leaks exhaust the pool and the later requests fail: the leak is real. */
    @Test
    void withoutTheAgentTheDroppedResponsesExhaustThePool() {
        AppOutput out = jvms.run(jvms.java(17).main(LeakyApache4.class)
                .args("--port", SERVER.port(), "--mode", "drop", "--leaks", 2, "--pool-max", 2, "--after", 3,
                        "--timeout-ms", 1_000, "--gc-seconds", 5));
        assertThat(out.exitCode()).as(out.describe()).isZero();
        assertThat(out.result()).as(out.describe()).containsEntry("ok", "0").containsEntry("failed", "3");
        assertThat(out.stderrLines()).noneMatch(l -> l.contains("connguard"));
    }
}

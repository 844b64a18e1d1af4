package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.connguard.testapps.clients.Apache4Driver;
import io.connguard.testapps.clients.ClientDriver;
import io.connguard.testapps.leak.LeakScenario;

/** {@link ClientContract} for Apache HttpClient 4.5 ({@link Apache4Driver}). */
class Apache4ClientIT extends ClientContract {

    @Override
    String name() {
        return "apache4";
    }

    @Override
    Class<? extends ClientDriver> driver() {
        return Apache4Driver.class;
    }

    @Override
    String client() {
        return "Apache HttpClient 4";
    }

    @Override
    String sharedPoolKind() {
        return "apache4-shared";
    }

    @Override
    String perThreadKind() {
        return "apache4-per-thread";
    }

    /** Without the agent the same leaks exhaust the pool and the later requests fail: the leak is real. */
    @Test
    void withoutTheAgentTheDroppedResponsesExhaustThePool() {
        AppOutput out = jvms.run(jvms.java(17).main(LeakScenario.class)
                .args("--client", name(), "--port", LEAK_SERVER.port(), "--mode", "drop", "--leaks", 2, "--pool-max", 2,
                        "--after", 3, "--timeout-ms", 1_000, "--gc-seconds", 5));
        assertThat(out.exitCode()).as(out.describe()).isZero();
        assertThat(out.result()).as(out.describe()).containsEntry("ok", "0").containsEntry("failed", "3");
        assertThat(out.stderrLines()).noneMatch(l -> l.contains("connguard"));
    }
}

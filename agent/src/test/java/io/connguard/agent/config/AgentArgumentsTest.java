package io.connguard.agent.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class AgentArgumentsTest {

    @Test
    void aRedisPasswordNeverShowsInWhatAttachPrintsOrInItsErrors() {
        AgentArguments args = AgentArguments.parse(List.of("CONNGUARD_FLEET_REDIS=redis://puller:s3cr3t@redis:6379",
                "CONNGUARD_FLEET_LIMITS=harbor=8", "fleet.redis=redis://u:hunter2@redis"));
        assertThat(args.encode()).as("passed to the target as given").contains("s3cr3t");
        assertThat(args.describe()).contains("connguard.fleet.redis=redis://***@redis:6379")
                .contains("connguard.fleet.limits=harbor=8").doesNotContain("s3cr3t").doesNotContain("puller");
        assertThat(String.join("\n", args.problems())).contains("'fleet.redis=...'").doesNotContain("hunter2");
    }

    @Test
    void environmentAndPropertyNamesBothBecomePropertiesThatWin() {
        AgentArguments args = AgentArguments.parse(List.of("CONNGUARD_HOST_LIMITS=registry=2,*=8",
                "connguard.queue.timeout=5s", " CONNGUARD_RETRY_MAX_ATTEMPTS = 3 "));
        assertThat(args.problems()).isEmpty();
        Properties base = new Properties();
        base.setProperty("connguard.queue.timeout", "1m");
        AgentConfig config = AgentConfig.load(Map.of("CONNGUARD_HOST_LIMITS", "registry=50"), args.over(base));
        assertThat(config.problems()).isEmpty();
        assertThat(config.limitFor("registry", 443)).isEqualTo(2);
        assertThat(config.queueTimeoutMillis()).isEqualTo(5_000);
        assertThat(config.retryMaxAttempts()).isEqualTo(3);
        assertThat(base.getProperty("connguard.queue.timeout")).as("base untouched").isEqualTo("1m");
    }

    @Test
    void encodeDecodeRoundTrip() {
        AgentArguments args = AgentArguments.parse(List.of("CONNGUARD_HOST_LIMITS=a=1,b=2", "connguard.strict=true"));
        AgentArguments back = AgentArguments.decode(args.encode());
        assertThat(back.encode()).isEqualTo(args.encode())
                .isEqualTo("connguard.host.limits=a=1,b=2\nconnguard.strict=true");
        assertThat(AgentArguments.decode(null).isEmpty()).isTrue();
        assertThat(AgentArguments.decode("").isEmpty()).isTrue();
    }

    @Test
    void badPairsAreOneLineEachAndUnknownNamesAreReportedByTheConfig() {
        AgentArguments args = AgentArguments.parse(List.of("HOST_LIMITS=a=1", "CONNGUARD_QUEUE_MAX", "=5",
                "CONNGUARD_QUEUE_TIMOUT=5s"));
        assertThat(args.problems()).hasSize(3).allSatisfy(p -> assertThat(p).startsWith("attach setting '")
                .doesNotContain("\n"));
        AgentConfig config = AgentConfig.load(Map.of(), args.over(new Properties()));
        assertThat(config.problems()).singleElement().asString().contains("connguard.queue.timout")
                .contains("connguard.queue.timeout");
    }
}

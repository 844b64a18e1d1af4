package io.connguard.agent.config;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The fleet settings: values, the credentials that never show, and the one-line errors. */
class FleetSettingsTest {

    private static AgentConfig env(String... pairs) {
        HashMap<String, String> env = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return AgentConfig.load(env, new Properties());
    }

    @Test
    void offByDefault() {
        AgentConfig c = AgentConfig.defaults();
        assertThat(c.fleetEnabled()).isFalse();
        assertThat(c.fleetRedis().isSet()).isFalse();
        assertThat(c.fleetName()).isEqualTo("default");
        assertThat(c.fleetLeaseMillis()).isEqualTo(15_000);
        assertThat(c.fleetFallbackLimit()).isEqualTo(2);
    }

    @Test
    void aFleetWithCredentialsNeverShowsThem() {
        AgentConfig c = env("CONNGUARD_FLEET_REDIS", "rediss://puller:s3cr%3At@redis.internal:6380/2",
                "CONNGUARD_FLEET_LIMITS", "harbor.example.com=200,*.registry.example=50",
                "CONNGUARD_FLEET_NAME", "build-farm", "CONNGUARD_FLEET_LEASE", "30s",
                "CONNGUARD_FLEET_FALLBACK_LIMIT", "4");
        assertThat(c.problems()).isEmpty();
        assertThat(c.fleetEnabled()).isTrue();
        RedisUrl u = c.fleetRedis();
        assertThat(u.tls()).isTrue();
        assertThat(u.host()).isEqualTo("redis.internal");
        assertThat(u.port()).isEqualTo(6380);
        assertThat(u.database()).isEqualTo(2);
        assertThat(u.user()).isEqualTo("puller");
        assertThat(u.password()).isEqualTo("s3cr:t");
        assertThat(c.fleetLimitFor("harbor.example.com", 443)).isEqualTo(200);
        assertThat(c.fleetLimitFor("eu.registry.example", 443)).isEqualTo(50);
        assertThat(c.fleetLimitFor("other.example", 443)).isZero();
        assertThat(c.fleetName()).isEqualTo("build-farm");
        assertThat(c.fleetLeaseMillis()).isEqualTo(30_000);
        assertThat(c.fleetFallbackLimit()).isEqualTo(4);
        assertThat(c.describe()).contains("fleetRedis=rediss://***@redis.internal:6380/2")
                .doesNotContain("s3cr").doesNotContain("puller");
        assertThat(env("CONNGUARD_FLEET_REDIS", "redis://:pw@[::1]", "CONNGUARD_FLEET_LIMITS", "h=1")
                .fleetRedis().toString()).isEqualTo("redis://***@[::1]:6379");
        RedisUrl compose = env("CONNGUARD_FLEET_REDIS", "redis://u:p%40ss@redis_1:6380", "CONNGUARD_FLEET_LIMITS", "h=1")
                .fleetRedis();
        assertThat(compose.host()).as("a docker-compose name with '_'").isEqualTo("redis_1");
        assertThat(compose.port()).isEqualTo(6380);
        assertThat(compose.user()).isEqualTo("u");
        assertThat(compose.password()).isEqualTo("p@ss");
    }

    @Test
    void aBadRedisUrlNamesTheSettingAndWhatIsAcceptedButNotTheValue() {
        AgentConfig c = env("CONNGUARD_FLEET_REDIS", "http://admin:hunter2@redis.internal",
                "CONNGUARD_FLEET_LIMITS", "harbor=8");
        assertThat(c.fleetEnabled()).isFalse();
        assertThat(String.join("\n", c.problems())).contains("CONNGUARD_FLEET_REDIS")
                .contains("the scheme must be redis or rediss").contains("redis://[user:password@]host[:port][/db]")
                .doesNotContain("hunter2").doesNotContain("admin");
        assertThat(String.join("\n", env("CONNGUARD_FLEET_REDIS", "redis://h/x").problems()))
                .contains("database number");
    }

    @Test
    void aRepeatedFleetPatternIsReportedUnderItsOwnSetting() {
        AgentConfig c = env("CONNGUARD_FLEET_REDIS", "redis://r", "CONNGUARD_FLEET_LIMITS", "harbor=8,harbor=4");
        assertThat(c.problems()).singleElement().asString().startsWith("CONNGUARD_FLEET_LIMITS").contains("repeats");
        assertThat(c.fleetLimitFor("harbor", 443)).isEqualTo(4);
    }

    @Test
    void halfAFleetIsReported() {
        assertThat(env("CONNGUARD_FLEET_LIMITS", "harbor=8").problems()).singleElement().asString()
                .contains("CONNGUARD_FLEET_LIMITS").contains("CONNGUARD_FLEET_REDIS is not");
        assertThat(env("CONNGUARD_FLEET_REDIS", "redis://r").problems()).singleElement().asString()
                .contains("names no host");
    }

    @Test
    void badLeaseNameAndFallbackAreOneLineEach() {
        AgentConfig c = env("CONNGUARD_FLEET_REDIS", "redis://r", "CONNGUARD_FLEET_LIMITS", "harbor=8",
                "CONNGUARD_FLEET_LEASE", "200ms", "CONNGUARD_FLEET_NAME", "a b", "CONNGUARD_FLEET_FALLBACK_LIMIT", "-1");
        assertThat(c.problems()).hasSize(3);
        assertThat(String.join("\n", c.problems())).contains("CONNGUARD_FLEET_LEASE").contains("from 1s to 10m")
                .contains("CONNGUARD_FLEET_NAME").contains("CONNGUARD_FLEET_FALLBACK_LIMIT");
        assertThat(c.fleetLeaseMillis()).isEqualTo(15_000);
        assertThat(c.fleetName()).isEqualTo("default");
    }
}

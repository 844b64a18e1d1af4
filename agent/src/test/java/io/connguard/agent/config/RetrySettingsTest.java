package io.connguard.agent.config;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The retry settings: defaults, values, and the one-line errors for bad ones. */
class RetrySettingsTest {

    private static AgentConfig env(String... pairs) {
        java.util.HashMap<String, String> env = new java.util.HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return AgentConfig.load(env, new Properties());
    }

    @Test
    void defaultsRetry429And503ForGetAndHeadFiveAttemptsNoRegistries() {
        AgentConfig c = AgentConfig.defaults();
        assertThat(c.retryMaxAttempts()).isEqualTo(5);
        assertThat(c.retryStatus(429)).isTrue();
        assertThat(c.retryStatus(503)).isTrue();
        assertThat(c.retryStatus(401)).isFalse();
        assertThat(c.retryStatus(500)).isFalse();
        assertThat(c.retryMethods()).containsExactly("GET", "HEAD");
        assertThat(c.retryBackoffMillis()).isEqualTo(200);
        assertThat(c.retryMaxBackoffMillis()).isEqualTo(10_000);
        assertThat(c.retryAfterMaxMillis()).isEqualTo(30_000);
        assertThat(c.retryBudgetPercent()).isEqualTo(20);
        assertThat(c.registryHost("harbor.example.com", 443)).isFalse();
        assertThat(c.retryHost("harbor.example.com", 443)).as("no host is retried by name").isFalse();
        assertThat(c.describe()).contains("retryMaxAttempts=5 retryStatuses=429,503 retryMethods=GET,HEAD"
                + " retryBackoff=200ms retryMaxBackoff=10s retryAfterMax=30s retryBudget=20 registryHosts=none"
                + " retryHosts=none");
    }

    @Test
    void valuesAreReadFromTheEnvironmentAndPropertiesWin() {
        Properties p = new Properties();
        p.setProperty("connguard.retry.max.attempts", "3");
        AgentConfig c = AgentConfig.load(Map.of("CONNGUARD_RETRY_MAX_ATTEMPTS", "7",
                "CONNGUARD_RETRY_STATUSES", "429, 502,503", "CONNGUARD_RETRY_METHODS", "get,put",
                "CONNGUARD_REGISTRY_HOSTS", "harbor.example.com,*.corp.example:5000, 127.0.0.1",
                "CONNGUARD_RETRY_BUDGET", "50"), p);
        assertThat(c.problems()).isEmpty();
        assertThat(c.retryMaxAttempts()).isEqualTo(3);
        assertThat(c.retryStatus(502)).isTrue();
        assertThat(c.retryMethods()).containsExactly("GET", "PUT");
        assertThat(c.retryBudgetPercent()).isEqualTo(50);
        assertThat(c.registryHost("Harbor.Example.com", 443)).isTrue();
        assertThat(c.registryHost("reg.corp.example", 5000)).isTrue();
        assertThat(c.registryHost("reg.corp.example", 443)).isFalse();
        assertThat(c.registryHost("127.0.0.1", 8080)).isTrue();
        assertThat(c.registryHost("example.com", 443)).isFalse();
        assertThat(c.describe()).contains("registryHosts=127.0.0.1,harbor.example.com,*.corp.example:5000");
    }

    @Test
    void noneTurnsListsOffAndOneAttemptTurnsRetriesOff() {
        AgentConfig c = env("CONNGUARD_RETRY_STATUSES", "none", "CONNGUARD_RETRY_METHODS", "none",
                "CONNGUARD_RETRY_MAX_ATTEMPTS", "1");
        assertThat(c.problems()).isEmpty();
        assertThat(c.retryStatus(503)).isFalse();
        assertThat(c.retryMethods()).isEmpty();
        assertThat(c.retryMaxAttempts()).isEqualTo(1);
    }

    @Test
    void badValuesNameTheSettingWhatIsAcceptedAndKeepTheDefault() {
        AgentConfig c = env("CONNGUARD_RETRY_STATUSES", "503,200", "CONNGUARD_RETRY_MAX_ATTEMPTS", "0",
                "CONNGUARD_RETRY_BUDGET", "150", "CONNGUARD_RETRY_METHODS", "GET;POST",
                "CONNGUARD_RETRY_BACKOFF", "fast");
        assertThat(c.problems()).hasSize(5);
        assertThat(c.problems()).anySatisfy(p -> assertThat(p).startsWith("CONNGUARD_RETRY_STATUSES")
                .contains("'503,200'").contains("400 to 599").contains("using the default (429,503)"));
        assertThat(c.problems()).anySatisfy(p -> assertThat(p).startsWith("CONNGUARD_RETRY_MAX_ATTEMPTS")
                .contains("from 1 to 20").contains("using the default (5)"));
        assertThat(c.problems()).anySatisfy(p -> assertThat(p).startsWith("CONNGUARD_RETRY_BUDGET")
                .contains("from 0 to 100"));
        assertThat(c.problems()).anySatisfy(p -> assertThat(p).startsWith("CONNGUARD_RETRY_METHODS")
                .contains("HTTP methods"));
        assertThat(c.problems()).anySatisfy(p -> assertThat(p).startsWith("CONNGUARD_RETRY_BACKOFF"));
        assertThat(c.retryStatus(503)).isTrue();
        assertThat(c.retryMaxAttempts()).isEqualTo(5);
        assertThat(c.retryBudgetPercent()).isEqualTo(20);
    }

    @Test
    void aBadRegistryPatternIsReportedUnderItsOwnSettingAndTheOthersApply() {
        AgentConfig c = env("CONNGUARD_REGISTRY_HOSTS", "harbor.example.com=5,good.example, bad host");
        assertThat(c.problems()).hasSize(2);
        assertThat(c.problems()).allSatisfy(p -> assertThat(p).startsWith("CONNGUARD_REGISTRY_HOSTS")
                .contains("entry ignored"));
        assertThat(c.problems()).anySatisfy(p -> assertThat(p).contains("takes no '=limit'"));
        assertThat(c.registryHost("good.example", 443)).isTrue();
        assertThat(c.registryHost("harbor.example.com", 443)).isFalse();
    }

    @Test
    void retryHostsNameHostsLikeTheOtherListsAndAStarNamesEveryHost() {
        AgentConfig named = env("CONNGUARD_RETRY_HOSTS", "api.example.com, *.corp.example:8080");
        assertThat(named.problems()).isEmpty();
        assertThat(named.retryHost("API.example.com", 443)).isTrue();
        assertThat(named.retryHost("svc.corp.example", 8080)).isTrue();
        assertThat(named.retryHost("svc.corp.example", 443)).isFalse();
        assertThat(named.retryHost("example.com", 443)).isFalse();
        assertThat(named.registryHost("api.example.com", 443)).as("a retried host is not a registry").isFalse();
        assertThat(named.describe()).contains("retryHosts=api.example.com,*.corp.example:8080");

        AgentConfig every = env("CONNGUARD_RETRY_HOSTS", "*");
        assertThat(every.problems()).isEmpty();
        assertThat(every.retryHost("anything.example", 8443)).isTrue();
        assertThat(every.retryHost("127.0.0.1", 1)).isTrue();
        assertThat(every.describe()).contains("retryHosts=*");

        Properties p = new Properties();
        p.setProperty("connguard.retry.hosts", "none");
        AgentConfig off = AgentConfig.load(Map.of("CONNGUARD_RETRY_HOSTS", "*"), p);
        assertThat(off.retryHost("anything.example", 8443)).as("the property wins; none names no host").isFalse();
    }

    @Test
    void aBadRetryHostsEntryNamesTheSettingAndWhatIsAcceptedAndTheOthersApply() {
        AgentConfig c = env("CONNGUARD_RETRY_HOSTS", "api.example.com=5,good.example, bad host");
        assertThat(c.problems()).hasSize(2);
        assertThat(c.problems()).allSatisfy(p -> assertThat(p).startsWith("CONNGUARD_RETRY_HOSTS (connguard.retry.hosts)")
                .contains("expected host patterns: host, host:port, *.suffix, *.suffix:port, * or *:port")
                .contains("entry ignored"));
        assertThat(c.problems()).anySatisfy(p -> assertThat(p).contains("'api.example.com=5'").contains("takes no '=limit'"));
        assertThat(c.problems()).anySatisfy(p -> assertThat(p).contains("'bad host'"));
        assertThat(c.retryHost("good.example", 443)).isTrue();
        assertThat(c.retryHost("api.example.com", 443)).isFalse();
    }

    @Test
    void aWordForEveryHostIsReportedWithTheStarToWriteInstead() {
        for (String word : new String[] {"all", "TRUE", "yes", "off"}) {
            AgentConfig c = env("CONNGUARD_RETRY_HOSTS", word);
            assertThat(c.problems()).as(word).singleElement().satisfies(p -> assertThat(p)
                    .startsWith("CONNGUARD_RETRY_HOSTS (connguard.retry.hosts): invalid entry '" + word + "'")
                    .contains("* names every host"));
            assertThat(c.retryHost(word, 443)).isFalse();
            assertThat(c.retryHost("api.example.com", 443)).as(word + ": the default, no host").isFalse();
        }
        assertThat(env("CONNGUARD_RETRY_HOSTS", "all.example.com,allegro").problems()).as("host names").isEmpty();
    }
}

package io.connguard.agent.retry;

import io.connguard.agent.config.AgentConfig;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.LocalSlotStore;
import io.connguard.agent.core.RetryCall;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which requests and connects the settings put under the retry policy at all, from the settings to
 * {@link Retries#start}, without an agent or a client: only hosts with a cap or a name, unless
 * {@code CONNGUARD_RETRY_HOSTS} widens it; {@code CONNGUARD_RETRY_MAX_ATTEMPTS=1} still turns
 * everything off.
 */
class RetryScopeTest {

    private static Retries retries(String... pairs) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        AgentConfig config = AgentConfig.load(env, new Properties());
        assertThat(config.problems()).isEmpty();
        Governor governor = new Governor(config::limitFor, new LocalSlotStore(), 200, 10, new Governor.Listener() { });
        return new Retries(config, governor, List.of());
    }

    /** Whether a GET to {@code host:port} and a connect to it are retried. */
    private static boolean retried(Retries retries, String host, int port) {
        RetryCall request = retries.start(0, host, port, "GET", true, 0, true);
        RetryCall connect = retries.connectStart(0, host, port, 1_000);
        assertThat(connect != null).as("a connect is retried where a request is: %s:%s", host, port)
                .isEqualTo(request != null);
        if (request != null) {
            request.end();
            connect.end();
        }
        return request != null;
    }

    @Test
    void byDefaultNothingIsRetriedWhereNothingIsCappedOrNamed() {
        Retries retries = retries();
        assertThat(retries.enabled()).isTrue();
        assertThat(retried(retries, "api.example.com", 443)).isFalse();
        assertThat(retried(retries, "127.0.0.1", 8080)).isFalse();
    }

    @Test
    void cappedHostsAndRegistriesAreRetriedByDefault() {
        Retries retries = retries("CONNGUARD_HOST_LIMITS", "capped.example=4,*.pool.example:5000=2",
                "CONNGUARD_REGISTRY_HOSTS", "harbor.example");
        assertThat(retried(retries, "capped.example", 443)).as("capped").isTrue();
        assertThat(retried(retries, "a.pool.example", 5000)).as("capped on this port").isTrue();
        assertThat(retried(retries, "a.pool.example", 443)).as("not capped on this port").isFalse();
        assertThat(retried(retries, "harbor.example", 443)).as("a registry").isTrue();
        assertThat(retried(retries, "api.example.com", 443)).as("neither").isFalse();
        assertThat(retried(retries("CONNGUARD_MAX_PER_HOST", "16"), "api.example.com", 443))
                .as("a default cap caps every host").isTrue();
    }

    @Test
    void retryHostsWidenItAndAStarRetriesEveryHostAsBefore() {
        Retries named = retries("CONNGUARD_RETRY_HOSTS", "api.example.com");
        assertThat(retried(named, "api.example.com", 443)).isTrue();
        assertThat(retried(named, "other.example.com", 443)).isFalse();
        Retries every = retries("CONNGUARD_RETRY_HOSTS", "*");
        assertThat(retried(every, "other.example.com", 443)).isTrue();
        assertThat(retried(every, "127.0.0.1", 8080)).isTrue();
    }

    @Test
    void oneAttemptStillTurnsEveryRetryOff() {
        Retries retries = retries("CONNGUARD_RETRY_MAX_ATTEMPTS", "1", "CONNGUARD_RETRY_HOSTS", "*",
                "CONNGUARD_HOST_LIMITS", "capped.example=4", "CONNGUARD_REGISTRY_HOSTS", "harbor.example");
        assertThat(retries.enabled()).isFalse();
        assertThat(retried(retries, "capped.example", 443)).isFalse();
        assertThat(retried(retries, "harbor.example", 443)).isFalse();
        assertThat(retried(retries, "api.example.com", 443)).isFalse();
    }
}

package io.connguard.agent.text;

import io.connguard.agent.core.HostKey;
import io.connguard.agent.core.Refusal;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SentencesTest {

    private static Refusal timedOut(Refusal.Cap cap) {
        return new Refusal(Refusal.Reason.TIMED_OUT, new HostKey("registry.test", 443), cap, 2, 0, 2, 5, 2, 3, 100,
                1_000, 0);
    }

    /** The exception and the log line of one refused connect name the same setting to raise. */
    @Test
    void theExceptionAndTheLogLineOfOneRefusalNameTheSameSetting() {
        String[][] expected = {
                {"HOST", "CONNGUARD_HOST_LIMITS", "CONNGUARD_FLEET"},
                {"FLEET", "CONNGUARD_FLEET_LIMITS", "CONNGUARD_FLEET_FALLBACK_LIMIT"},
                {"FLEET_FALLBACK", "CONNGUARD_FLEET_FALLBACK_LIMIT", "CONNGUARD_FLEET_LIMITS"},
        };
        for (String[] row : expected) {
            Refusal r = timedOut(Refusal.Cap.valueOf(row[0]));
            assertThat(Sentences.refusal(r)).as(row[0]).containsIgnoringCase("raise it with " + row[1])
                    .doesNotContain(row[2]);
            assertThat(Sentences.queueTimedOut(r)).as(row[0]).contains("raise " + row[1]).doesNotContain(row[2]);
        }
    }
}

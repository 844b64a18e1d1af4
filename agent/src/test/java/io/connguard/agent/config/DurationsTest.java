package io.connguard.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
        "0, 0",
        "0ms, 0",
        "0s, 0",
        "250ms, 250",
        "30s, 30000",
        "5m, 300000",
        "1h, 3600000",
        "' 30s ', 30000",
        "30S, 30000",
        "250MS, 250",
    })
    void parsesEveryUnit(String text, long millis) {
        assertThat(Durations.parse(text)).isEqualTo(millis);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "30", "-5s", "+5s", "1.5s", "5 m", "5min", "s", "ms", "30sec", "abc", "1d",
        "99999999999999999999s", "9223372036854775807h"})
    void rejectsNegativeMissingUnitGarbageAndOverflow(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + text.trim() + "'")
                .hasMessageContaining(Durations.ACCEPTED);
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "250, 250ms", "1000, 1s", "1500, 1500ms", "30000, 30s", "90000, 90s",
        "300000, 5m", "3600000, 1h", "5400000, 90m"})
    void formatsWithTheLargestExactUnitAndReadsBack(long millis, String text) {
        assertThat(Durations.format(millis)).isEqualTo(text);
        assertThat(Durations.parse(text)).isEqualTo(millis);
    }

    @ParameterizedTest
    @ValueSource(longs = {-1, -1000})
    void refusesToFormatNegative(long millis) {
        assertThatThrownBy(() -> Durations.format(millis)).isInstanceOf(IllegalArgumentException.class);
    }
}

package io.connguard.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LogLevelTest {

    @Test
    void aLevelEnablesItselfAndEverythingMoreSevere() {
        assertThat(LogLevel.INFO.enables(LogLevel.ERROR)).isTrue();
        assertThat(LogLevel.INFO.enables(LogLevel.WARN)).isTrue();
        assertThat(LogLevel.INFO.enables(LogLevel.INFO)).isTrue();
        assertThat(LogLevel.INFO.enables(LogLevel.DEBUG)).isFalse();
        assertThat(LogLevel.TRACE.enables(LogLevel.TRACE)).isTrue();
        assertThat(LogLevel.ERROR.enables(LogLevel.WARN)).isFalse();
    }

    @Test
    void offEnablesNothingAndNothingIsLoggedAtOff() {
        for (LogLevel level : LogLevel.values()) {
            assertThat(LogLevel.OFF.enables(level)).as("OFF enables %s", level).isFalse();
            assertThat(level.enables(LogLevel.OFF)).as("%s enables OFF", level).isFalse();
        }
    }

    @Test
    void parsesCaseInsensitively() {
        assertThat(LogLevel.parse("debug")).isEqualTo(LogLevel.DEBUG);
        assertThat(LogLevel.parse(" Warn ")).isEqualTo(LogLevel.WARN);
        assertThat(LogLevel.parse("OFF")).isEqualTo(LogLevel.OFF);
        assertThat(LogLevel.TRACE.label()).isEqualTo("trace");
    }

    @Test
    void rejectsOtherWords() {
        assertThatThrownBy(() -> LogLevel.parse("warning"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'warning'")
                .hasMessageContaining("off, error, warn, info, debug, trace");
    }
}

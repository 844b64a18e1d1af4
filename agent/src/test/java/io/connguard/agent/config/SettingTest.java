package io.connguard.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SettingTest {

    @Test
    void namesFollowTheConstant() {
        assertThat(Setting.QUEUE_TIMEOUT.envName()).isEqualTo("CONNGUARD_QUEUE_TIMEOUT");
        assertThat(Setting.QUEUE_TIMEOUT.propertyName()).isEqualTo("connguard.queue.timeout");
        assertThat(Setting.QUEUE_TIMEOUT.displayName())
                .isEqualTo("CONNGUARD_QUEUE_TIMEOUT (connguard.queue.timeout)");
        assertThat(Setting.MAX_PER_HOST.describeKey()).isEqualTo("maxPerHost");
        assertThat(Setting.ENABLED.describeKey()).isEqualTo("enabled");
    }

    @ParameterizedTest
    @EnumSource(Setting.class)
    void everySettingIsDocumentedAndItsDefaultParses(Setting setting) {
        assertThat(setting.description()).isNotBlank();
        assertThat(setting.accepted()).isNotBlank();
        assertThat(setting.defaultValue()).isNotNull();
        List<String> problems = new ArrayList<>();
        Object value = setting.parse(setting.defaultValue(), problems);
        assertThat(problems).isEmpty();
        // The printed form of a value reads back as the same value (hostLimits prints "none" for empty).
        if (setting != Setting.HOST_LIMITS && setting != Setting.FLEET_LIMITS) {
            assertThat(setting.parse(setting.format(value), problems)).isEqualTo(value);
        }
    }
}

package io.connguard.agent.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's settings table documents every setting, with both names and its default. */
class ReadmeSettingsTest {

    @Test
    void everySettingHasARowWithItsNamesAndDefault() throws Exception {
        Path readme = Path.of("..", "README.md");
        assertThat(readme).as("README.md next to agent/").exists();
        List<String> lines = Files.readAllLines(readme);
        for (Setting s : Setting.values()) {
            Optional<String> row = lines.stream()
                    .filter(l -> l.startsWith("| `" + s.envName() + "`"))
                    .findFirst();
            assertThat(row).as("README table row for %s", s.envName()).isPresent();
            assertThat(row.get()).contains("`" + s.propertyName() + "`");
            if (s.defaultValue().isEmpty()) {
                assertThat(row.get()).contains("(none)");
            } else {
                assertThat(row.get()).as("default of %s", s.envName()).contains("`" + s.defaultValue() + "`");
            }
        }
    }
}

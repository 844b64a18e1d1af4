package io.connguard.agent.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's settings table is {@link Setting}, word for word: names, default, accepted values and
 * meaning, in the enum's order. Setting is the one source; on a mismatch the failure prints the table
 * to paste into the README.
 */
class ReadmeSettingsTest {

    static final String HEADER = "| Setting (env / system property) | Default | Accepted | Meaning |";

    @Test
    void theReadmeTableIsWhatSettingDefines() throws Exception {
        Path readme = Path.of("..", "README.md");
        assertThat(readme).as("README.md next to agent/").exists();
        String expected = String.join("\n", table());
        assertThat(String.join("\n", readmeTable(Files.readAllLines(readme))))
                .as("the settings table in README.md; it must read:%n%n%s%n", expected)
                .isEqualTo(expected);
    }

    /** The table as Setting defines it, header included. */
    static List<String> table() {
        List<String> rows = new ArrayList<>();
        rows.add(HEADER);
        rows.add("|---|---|---|---|");
        for (Setting s : Setting.values()) {
            rows.add("| `" + s.envName() + "` / `" + s.propertyName() + "` | "
                    + (s.defaultValue().isEmpty() ? "(none)" : "`" + s.defaultValue() + "`") + " | "
                    + markdown(s.accepted()) + " | "
                    + s.description() + " |");
        }
        return rows;
    }

    /** The README's lines from the table's header to the last row. */
    private static List<String> readmeTable(List<String> lines) {
        int start = lines.indexOf(HEADER);
        assertThat(start).as("a line in README.md that reads %s", HEADER).isNotNegative();
        List<String> table = new ArrayList<>();
        for (int i = start; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            table.add(lines.get(i));
        }
        return table;
    }

    /** Accepted values are plain text (error messages quote them); in a table '*' and '|' are markup. */
    private static String markdown(String plain) {
        return plain.replace("|", "\\|").replace("*", "\\*");
    }
}

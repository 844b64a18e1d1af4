package io.connguard.agent;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps the house as DESIGN.md draws it, read from the sources (comments stripped, so a javadoc
 * may still say which client or setting it is about):
 * <ul>
 *   <li>{@code core} is pure Java: it imports no instrumentation, no Byte Buddy, no client
 *       folder, no logging, JMX or metrics class, and names no {@code CONNGUARD_} setting;</li>
 *   <li>a client's classes (by package name, in imports and in strings) are named only inside
 *       its own folder {@code instrument/http/<client>/};</li>
 *   <li>{@code jmx} and {@code metrics} only read: nothing in {@code core} or {@code instrument}
 *       imports them.</li>
 * </ul>
 */
class LayeringTest {

    private static final Path MAIN = Path.of("src", "main", "java", "io", "connguard", "agent");

    /** Each client folder and the package prefixes of the library (or JDK internals) it rewrites. */
    private static final Map<String, List<String>> CLIENTS = Map.of(
            "urlconnection", List.of("sun.net.www", "sun/net/www"),
            "httpclient", List.of("jdk.internal.net.http", "jdk/internal/net/http"),
            "apache4", List.of("org.apache.http.", "org/apache/http/", ".apache.http."),
            "apache5", List.of("org.apache.hc.", "org/apache/hc/", ".apache.hc."),
            "okhttp", List.of("okhttp3.", "okhttp3/"));

    @Test
    void coreIsPureAndNamesNoSetting() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Path file : javaFiles(MAIN.resolve("core"))) {
            String code = code(file);
            for (String forbidden : List.of("io.connguard.agent.instrument", "net.bytebuddy", "io.connguard.agent.jmx",
                    "io.connguard.agent.metrics", "io.connguard.agent.log", "io.connguard.agent.config",
                    "io.connguard.agent.fleet", "CONNGUARD_")) {
                if (code.contains(forbidden)) {
                    problems.add(rel(file) + " names " + forbidden);
                }
            }
        }
        assertThat(problems).as("core decides; it names no client, instrumentation, sink or setting").isEmpty();
    }

    @Test
    void aClientIsNamedOnlyInItsOwnFolder() throws IOException {
        Path http = MAIN.resolve("instrument").resolve("http");
        for (String client : CLIENTS.keySet()) {
            assertThat(http.resolve(client)).as("client folder instrument/http/%s", client).isDirectory();
        }
        List<String> problems = new ArrayList<>();
        for (Path file : javaFiles(MAIN)) {
            String code = code(file);
            for (Map.Entry<String, List<String>> c : CLIENTS.entrySet()) {
                if (file.startsWith(http.resolve(c.getKey()))) {
                    continue;
                }
                for (String prefix : c.getValue()) {
                    if (code.contains(prefix)) {
                        problems.add(rel(file) + " names " + prefix + " (belongs in instrument/http/" + c.getKey() + "/)");
                    }
                }
            }
        }
        assertThat(problems).as("a client's knowledge lives in its own folder").isEmpty();
    }

    @Test
    void onlyTheSinksReadTheCoreNotTheOtherWayRound() throws IOException {
        List<String> problems = new ArrayList<>();
        for (String layer : List.of("core", "instrument", "config")) {
            for (Path file : javaFiles(MAIN.resolve(layer))) {
                String code = code(file);
                for (String sink : List.of("io.connguard.agent.jmx", "io.connguard.agent.metrics", "io.connguard.agent.cli")) {
                    if (code.contains(sink)) {
                        problems.add(rel(file) + " imports " + sink);
                    }
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    private static List<Path> javaFiles(Path dir) throws IOException {
        assertThat(dir).as("source folder").isDirectory();
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }

    private static final Pattern STRINGS_OR_COMMENTS =
            Pattern.compile("\"(?:\\\\.|[^\"\\\\])*\"|/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);

    /** The file's code without comments (string literals kept: they name classes too). */
    private static String code(Path file) throws IOException {
        String text = Files.readString(file);
        Matcher m = STRINGS_OR_COMMENTS.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, m.group().startsWith("\"") ? Matcher.quoteReplacement(m.group()) : " ");
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String rel(Path file) {
        return MAIN.relativize(file).toString();
    }
}

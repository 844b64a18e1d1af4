package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.client.QueueTimeoutApp;

/**
 * {@code CONNGUARD_LOG_FILE} and {@code CONNGUARD_LOG_FORMAT=json}, in an application JVM whose
 * second connect times out in the queue (limit 1, 500 ms): the start-up line and the
 * queue-timeout line go to the file as JSON objects and nothing of ConnGuard to stderr; a file
 * that cannot be opened is one clear line on stderr and the log carries on there; without the
 * agent no file appears.
 */
class LogRoutingIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @TempDir
    Path dir;

    private JvmProcess.Builder queueTimeoutApp(int jdk, boolean agent, Path logFile, String format) {
        JvmProcess.Builder b = jvms.java(jdk).agent(agent)
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=1")
                .env("CONNGUARD_QUEUE_TIMEOUT", "500ms")
                .env("CONNGUARD_LOG_FILE", logFile.toString())
                .main(QueueTimeoutApp.class)
                .args("--host", "127.0.0.1", "--port", SERVER.port(), "--max-wait-ms", 20_000);
        return format == null ? b : b.env("CONNGUARD_LOG_FORMAT", format);
    }

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void jsonLinesGoToTheFileAndNothingToStderr(int jdk) throws IOException {
        Path file = dir.resolve("connguard.log");
        AppOutput out = jvms.run(queueTimeoutApp(jdk, true, file, "json"));

        assertThat(out.exitCode()).as(out.describe()).isZero();
        assertThat(out.lines()).as(out.describe()).contains("ISCONNECTEXCEPTION=true");
        assertThat(file).as("CONNGUARD_LOG_FILE").exists();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Map<String, Object>> events = lines.stream().map(StrictJson::object).collect(Collectors.toList());

        Map<String, Object> started = only(events, "started", null);
        assertThat(started.get("level")).isEqualTo("INFO");
        assertThat(started.get("logger")).isEqualTo("connguard");
        assertThat((String) started.get("time")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat((String) started.get("message")).startsWith("connguard: started ")
                .contains("hostLimits=127.0.0.1=1", "logFile=" + file, "logFormat=json");

        Map<String, Object> timeout = only(events, "queue", "timeout");
        assertThat(timeout.get("level")).isEqualTo("WARN");
        assertThat((String) timeout.get("message"))
                .startsWith("connguard: connect to 127.0.0.1:" + SERVER.port() + " gave up after waiting ");
        assertThat(events).allSatisfy(e -> assertThat(e).containsKeys("time", "level", "logger", "event", "message"));

        assertThat(out.stderrLines()).as("stderr of %s", out.process().name())
                .noneMatch(line -> line.toLowerCase().contains("connguard"));
    }

    @Test
    void textLinesGoToTheFileAsTheyWouldToStderrAndAreAppended() throws IOException {
        Path file = dir.resolve("connguard.log");
        Files.writeString(file, "an earlier line\n");
        AppOutput out = jvms.run(queueTimeoutApp(17, true, file, null));

        assertThat(out.exitCode()).as(out.describe()).isZero();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines.get(0)).isEqualTo("an earlier line");
        Pattern text = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)"
                + " (INFO|WARN) connguard - connguard: .*");
        assertThat(lines.subList(1, lines.size())).as("%s", lines).hasSizeGreaterThanOrEqualTo(2)
                .allMatch(l -> text.matcher(l).matches());
        assertThat(lines).anyMatch(l -> l.contains(" INFO connguard - connguard: started "))
                .anyMatch(l -> l.contains(" WARN connguard - connguard: connect to 127.0.0.1:"));
        assertThat(out.stderrLines()).noneMatch(line -> line.toLowerCase().contains("connguard"));
    }

    @Test
    void aFileThatCannotBeOpenedIsOneClearLineOnStderrAndTheLogContinuesThere() {
        Path file = dir.resolve("no-such-dir").resolve("connguard.log");
        AppOutput out = jvms.run(queueTimeoutApp(17, true, file, "json"));

        assertThat(out.exitCode()).as(out.describe()).isZero();
        assertThat(out.lines()).as("the application is unaffected").contains("ISCONNECTEXCEPTION=true");
        assertThat(file.getParent()).doesNotExist();
        List<Map<String, Object>> events = out.stderrLines().stream().filter(l -> l.startsWith("{"))
                .map(StrictJson::object).collect(Collectors.toList());
        Map<String, Object> failure = only(events, "log-file", "unavailable");
        assertThat(failure.get("level")).isEqualTo("ERROR");
        assertThat((String) failure.get("message"))
                .isEqualTo("connguard: CONNGUARD_LOG_FILE (connguard.log.file): cannot append to '" + file
                        + "': No such file or directory; logging to stderr instead");
        assertThat(events.indexOf(failure)).as("the failure is the first line").isZero();
        only(events, "started", null);
        only(events, "queue", "timeout");
    }

    @Test
    void withoutTheAgentNoFileAppears() {
        Path file = dir.resolve("connguard.log");
        AppOutput out = jvms.run(queueTimeoutApp(17, false, file, "json"));

        assertThat(out.exitCode()).as(out.describe()).isZero();
        assertThat(out.lines()).as(out.describe()).contains("ISCONNECTEXCEPTION=false");
        assertThat(file).doesNotExist();
    }

    private static Map<String, Object> only(List<Map<String, Object>> events, String event, String kind) {
        List<Map<String, Object>> found = events.stream()
                .filter(e -> event.equals(e.get("event")) && java.util.Objects.equals(kind, e.get("kind")))
                .collect(Collectors.toList());
        assertThat(found).as("events %s/%s in %s", event, kind, events).hasSize(1);
        return found.get(0);
    }

    /**
     * A strict reader of one JSON object per line (RFC 8259: objects, arrays, strings with every
     * escape, numbers, true/false/null; no trailing garbage, no raw control characters in strings,
     * no duplicate keys). The test class path has no JSON library, and the point is to prove the
     * agent's lines are real JSON, not that they look like it.
     */
    static final class StrictJson {
        private final String s;
        private int i;

        private StrictJson(String s) {
            this.s = s;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> object(String line) {
            StrictJson p = new StrictJson(line);
            p.ws();
            if (p.peek() != '{') {
                throw p.fail("an object");
            }
            Object value = p.value();
            p.ws();
            if (p.i != line.length()) {
                throw p.fail("the end of the line");
            }
            return (Map<String, Object>) value;
        }

        private Object value() {
            ws();
            char c = peek();
            switch (c) {
                case '{': {
                    i++;
                    Map<String, Object> map = new LinkedHashMap<>();
                    ws();
                    if (peek() == '}') {
                        i++;
                        return map;
                    }
                    while (true) {
                        ws();
                        if (peek() != '"') {
                            throw fail("a key");
                        }
                        String key = string();
                        ws();
                        expect(':');
                        if (map.put(key, value()) != null) {
                            throw fail("no duplicate key " + key);
                        }
                        ws();
                        if (peek() == ',') {
                            i++;
                        } else {
                            expect('}');
                            return map;
                        }
                    }
                }
                case '[': {
                    i++;
                    List<Object> list = new ArrayList<>();
                    ws();
                    if (peek() == ']') {
                        i++;
                        return list;
                    }
                    while (true) {
                        list.add(value());
                        ws();
                        if (peek() == ',') {
                            i++;
                        } else {
                            expect(']');
                            return list;
                        }
                    }
                }
                case '"':
                    return string();
                default:
                    if (s.startsWith("true", i)) {
                        i += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", i)) {
                        i += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", i)) {
                        i += 4;
                        return null;
                    }
                    return number();
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return b.toString();
                }
                if (c < 0x20) {
                    throw fail("no raw control character in a string");
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"':
                    case '\\':
                    case '/':
                        b.append(e);
                        break;
                    case 'b':
                        b.append('\b');
                        break;
                    case 'f':
                        b.append('\f');
                        break;
                    case 'n':
                        b.append('\n');
                        break;
                    case 'r':
                        b.append('\r');
                        break;
                    case 't':
                        b.append('\t');
                        break;
                    case 'u':
                        if (i + 4 > s.length() || !s.substring(i, i + 4).matches("[0-9a-fA-F]{4}")) {
                            throw fail("four hex digits");
                        }
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default:
                        throw fail("a valid escape");
                }
            }
        }

        private Object number() {
            java.util.regex.Matcher m = Pattern.compile("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?").matcher(s);
            if (!m.find(i) || m.start() != i || m.end() == i) {
                throw fail("a value");
            }
            i = m.end();
            return Double.parseDouble(m.group());
        }

        private void ws() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
        }

        private char peek() {
            return i < s.length() ? s.charAt(i) : '\0';
        }

        private char next() {
            if (i >= s.length()) {
                throw fail("more input");
            }
            return s.charAt(i++);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw fail("'" + c + "'");
            }
            i++;
        }

        private AssertionError fail(String expected) {
            return new AssertionError("not JSON: expected " + expected + " at " + i + " in: " + s);
        }
    }
}

package io.connguard.agent.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.connguard.agent.config.LogFormat;
import io.connguard.agent.config.LogLevel;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LogLineTest {

    /** 2026-11-21T20:26:29.431Z. */
    private static final long T = Instant.parse("2026-11-21T20:26:29.431Z").toEpochMilli();

    @Test
    void jsonIsOneObjectOnOneLineWithEventAndKind() {
        assertThat(LogLine.json(T, LogLevel.WARN, "connguard: retry [exhausted]: GET http://h:1/v2/ 503 after 5 attempts",
                null)).isEqualTo("{\"time\":\"2026-11-21T20:26:29.431Z\",\"level\":\"WARN\",\"logger\":\"connguard\","
                + "\"event\":\"retry\",\"kind\":\"exhausted\","
                + "\"message\":\"connguard: retry [exhausted]: GET http://h:1/v2/ 503 after 5 attempts\"}\n");
    }

    @Test
    void jsonTimeIsUtcWithMillisecondsEvenOnAWholeSecond() {
        long whole = Instant.parse("2026-01-02T03:04:05Z").toEpochMilli();
        assertThat(LogLine.json(whole, LogLevel.INFO, "x", null))
                .startsWith("{\"time\":\"2026-01-02T03:04:05.000Z\",\"level\":\"INFO\",");
    }

    @Test
    void aMessageWithoutAKnownHeadIsEventMessageWithoutKind() {
        assertThat(LogLine.json(T, LogLevel.DEBUG, "connguard: rewrote java.net.Socket", null))
                .contains("\"event\":\"message\",\"message\":")
                .doesNotContain("\"kind\"");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "connguard: leak [age]: connection to h:1 (jdk) borrowed by thread \"main\"|leak|age",
            "connguard: leak [returned]: connection to h:1|leak|returned",
            "connguard: leak [garbage]: a response or call to h:1|leak|garbage",
            "connguard: retry [budget]: h:1: 10 of 12 requests in flight|retry|budget",
            "connguard: started 0.1.0 (premain 30 ms, class rewriting ready after 400 ms): enabled=true|started|-",
            "connguard: connect to h:1 gave up after waiting 500 ms for a slot|queue|timeout",
            "connguard: connects to h:1 are refused at once because the line of waiting connects is full|queue|full",
            "connguard: a connect to h:1 on thread \"loop\" went ahead over the limit of 2|queue|ungoverned",
            "connguard: new destination h:1, limit 2|host|new",
            "connguard: not starting: CONNGUARD_STRICT=true and the settings above are invalid|start|refused",
            "connguard: failed to start; the application runs without ConnGuard: x|start|failed",
            "connguard: already running in this JVM; the second start was refused|start|duplicate",
            "connguard: disabled by CONNGUARD_ENABLED=false; nothing installed|start|disabled",
            "connguard: CONNGUARD_QUEUE_MAX (connguard.queue.max): invalid value 'x'|setting|invalid",
            "connguard: unknown setting CONNGUARD_X (environment variable), ignored|setting|unknown",
            "connguard: CONNGUARD_LOG_FILE (connguard.log.file): cannot append to '/x/y': no|log-file|unavailable",
            "connguard: internal error in connect; the connection proceeds ungoverned|internal|error",
            "connguard: rewrote java.net.Socket|message|-",
            "connguard: leak [Age]: not lower case|message|-",
            "connguard: leak [age] missing colon|message|-",
            "connguard: [age]: no event word|message|-",
            "something else entirely|message|-",
            "|message|-",
    })
    void eventAndKindComeFromTheStableStartOfTheMessage(String message, String event, String kind) {
        String[] derived = LogLine.event(message == null ? "" : message);
        assertThat(derived[0]).isEqualTo(event);
        assertThat(derived[1]).isEqualTo(kind);
    }

    @Test
    void quotesBackslashesAndControlCharactersAreEscaped() {
        StringBuilder b = new StringBuilder();
        LogLine.quote(b, "a\"b\\c\nd\re\tf\bg\fh\u0000i\u001fj\u007fk");
        assertThat(b).hasToString("\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0000i\\u001fj\u007fk\"");
    }

    @Test
    void nonAsciiStaysAsItIsButLineSeparatorsAndLoneSurrogatesAreEscaped() {
        StringBuilder b = new StringBuilder();
        LogLine.quote(b, "résumé ☃ \uD83D\uDE00 \u2028\u2029 \uD800x \uDC00");
        assertThat(b).hasToString("\"résumé ☃ \uD83D\uDE00 \\u2028\\u2029 \\ud800x \\udc00\"");
    }

    @Test
    void aMultiLineMessageStaysOneJsonLine() {
        String line = LogLine.json(T, LogLevel.WARN, "connguard: leak [age]: x\n\tat a.B.c(B.java:1)", null);
        assertThat(line).endsWith("}\n");
        assertThat(line.substring(0, line.length() - 1)).doesNotContain("\n", "\r");
        assertThat(line).contains("\"message\":\"connguard: leak [age]: x\\n\\tat a.B.c(B.java:1)\"");
    }

    @Test
    void aStackTraceIsTheErrorField() {
        Exception e = new IllegalStateException("bad \"state\"");
        String line = LogLine.json(T, LogLevel.ERROR, "connguard: internal error in connect: x", e);
        assertThat(line).contains("\"kind\":\"error\",\"message\":\"connguard: internal error in connect: x\","
                + "\"error\":\"java.lang.IllegalStateException: bad \\\"state\\\"" + escaped(System.lineSeparator())
                + "\\tat io.connguard.agent.log.LogLineTest.aStackTraceIsTheErrorField(");
        assertThat(line).endsWith("\"}\n");
        assertThat(line.substring(0, line.length() - 1)).doesNotContain("\n");
        assertThat(line).doesNotContain(escaped(System.lineSeparator()) + "\"}");
    }

    @Test
    void textIsTheLineSlf4jSimpleWrote() {
        String time = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneId.systemDefault())
                .format(Instant.ofEpochMilli(T));
        assertThat(LogLine.text(T, LogLevel.WARN, "connguard: retry [budget]: h:1", null))
                .isEqualTo(time + " WARN connguard - connguard: retry [budget]: h:1" + System.lineSeparator());
        if (ZoneId.systemDefault().getRules().getOffset(Instant.ofEpochMilli(T)).getTotalSeconds() == 0) {
            assertThat(time).isEqualTo("2026-11-21T20:26:29.431Z");
        }
        Exception e = new IllegalStateException("boom");
        assertThat(LogLine.format(LogFormat.TEXT, T, LogLevel.ERROR, "connguard: x", e))
                .startsWith(time + " ERROR connguard - connguard: x" + System.lineSeparator()
                        + "java.lang.IllegalStateException: boom" + System.lineSeparator() + "\tat ")
                .endsWith(System.lineSeparator());
    }

    private static String escaped(String separator) {
        return separator.replace("\r", "\\r").replace("\n", "\\n");
    }
}

package io.connguard.agent.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.connguard.agent.config.LogFormat;
import io.connguard.agent.config.LogLevel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogOutputTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream originalErr;

    @BeforeEach
    void captureStderr() {
        originalErr = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreStderr() {
        System.setErr(originalErr);
    }

    @Test
    void appendsToAFileItCreatesAndNothingGoesToStderr() throws Exception {
        Path file = dir.resolve("connguard.log");
        Files.writeString(file, "earlier line\n");
        LogOutput out = new LogOutput(file.toString(), LogFormat.JSON);
        out.write(LogLevel.INFO, "connguard: started x", null);
        out.write(LogLevel.WARN, "connguard: leak [age]: \u00e9", null);

        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo("earlier line");
        assertThat(lines.get(1)).contains("\"event\":\"started\"");
        assertThat(lines.get(2)).contains("\"event\":\"leak\",\"kind\":\"age\"", "\u00e9");
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aFileThatCannotBeOpenedIsOneLineOnStderrAndTheLogStaysOnStderr() {
        Path file = dir.resolve("missing-dir").resolve("connguard.log");
        LogOutput out = new LogOutput(file.toString(), LogFormat.TEXT);
        out.write(LogLevel.INFO, "connguard: started x", null);
        out.write(LogLevel.WARN, "connguard: retry [budget]: h:1", null);

        assertThat(file.getParent()).doesNotExist();
        String[] lines = err.toString(StandardCharsets.UTF_8).split(System.lineSeparator());
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).contains(" ERROR connguard - connguard: CONNGUARD_LOG_FILE (connguard.log.file):"
                + " cannot append to '" + file + "': No such file or directory; logging to stderr instead");
        assertThat(lines[1]).endsWith(" INFO connguard - connguard: started x");
        assertThat(lines[2]).endsWith(" WARN connguard - connguard: retry [budget]: h:1");
    }

    @Test
    void aDirectoryIsNoLogFileEither() {
        LogOutput out = new LogOutput(dir.toString(), LogFormat.JSON);
        out.write(LogLevel.INFO, "connguard: started x", null);
        String[] lines = err.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(2);
        assertThat(lines[0]).contains("\"event\":\"log-file\",\"kind\":\"unavailable\"", "Is a directory");
        assertThat(lines[1]).contains("\"event\":\"started\"");
    }

    @Test
    void stderrInJson() {
        new LogOutput("", LogFormat.JSON).write(LogLevel.WARN, "connguard: retry [budget]: h:1", null);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("{\"time\":\"").endsWith(",\"message\":\"connguard: retry [budget]: h:1\"}\n");
    }

    @Test
    void linesOfManyThreadsNeverInterleave() throws Exception {
        Path file = dir.resolve("many.log");
        LogOutput out = new LogOutput(file.toString(), LogFormat.JSON);
        String filler = "x".repeat(20_000);
        int threads = 8;
        int perThread = 200;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread thread = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    out.write(LogLevel.INFO, "connguard: retry [budget]: t" + id + " n" + i + " " + filler, null);
                }
            });
            thread.start();
            all.add(thread);
        }
        go.countDown();
        for (Thread thread : all) {
            thread.join();
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(threads * perThread)
                .allMatch(l -> l.startsWith("{\"time\":") && l.endsWith(filler + "\"}"));
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }
}

package io.connguard.it;

import io.connguard.testapps.common.Processes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One application JVM started by a test: a chosen JDK, the test-apps jar as class path (or an
 * executable jar of its own, {@link Builder#jar}), with or
 * without {@code -javaagent:}, its stdout and stderr in {@code target/it-logs/<name>.out/.err}.
 * It is stopped by its PID ({@link #kill()}), which every owner calls in a finally or after-each.
 */
final class JvmProcess {

    private static final Duration KILL_GRACE = Duration.ofSeconds(5);

    private final String name;
    private final String commandLine;
    private final Process process;
    private final Path out;
    private final Path err;

    private JvmProcess(String name, String commandLine, Process process, Path out, Path err) {
        this.name = name;
        this.commandLine = commandLine;
        this.process = process;
        this.out = out;
        this.err = err;
    }

    static Builder builder(String name) {
        return new Builder(name);
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Path outFile() {
        return out;
    }

    Path errFile() {
        return err;
    }

    /** Waits for the JVM to exit; kills it and fails when it takes longer than {@code timeout}. */
    int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill();
                throw new AssertionError(name + " (pid " + process.pid() + ") did not exit within " + timeout
                        + "; killed it.\n" + diagnostics(40));
            }
        } catch (InterruptedException e) {
            kill();
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + name, e);
        }
        return process.exitValue();
    }

    int exitValue() {
        return process.exitValue();
    }

    List<String> stdoutLines() {
        return readLines(out);
    }

    List<String> stderrLines() {
        return readLines(err);
    }

    String stderr() {
        return String.join("\n", stderrLines());
    }

    /** Closes stdin, asks the JVM to stop, and kills it by PID if it has not stopped in 5 s. */
    void kill() {
        Processes.stop(process, KILL_GRACE.toMillis());
    }

    /** The command line, the exit status and the last {@code lines} lines of stdout and stderr. */
    String diagnostics(int lines) {
        StringBuilder sb = new StringBuilder();
        sb.append("=== ").append(name).append(" (pid ").append(process.pid()).append(", ")
                .append(process.isAlive() ? "still running" : "exit " + process.exitValue()).append(")\n");
        sb.append("command: ").append(commandLine).append('\n');
        sb.append(tail("stdout", out, lines));
        sb.append(tail("stderr", err, lines));
        return sb.toString();
    }

    private static String tail(String label, Path file, int lines) {
        List<String> all = readLines(file);
        StringBuilder sb = new StringBuilder("--- ").append(label).append(" ").append(file);
        if (all.size() > lines) {
            sb.append(" (last ").append(lines).append(" of ").append(all.size()).append(" lines)");
        }
        sb.append('\n');
        all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> sb.append(l).append('\n'));
        return sb.toString();
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            return List.of("<cannot read " + file + ": " + e + ">");
        }
    }

    /** What to start. Environment variables that could skew a test are never inherited. */
    static final class Builder {
        private final String name;
        private int jdk = 17;
        private boolean agent;
        private final Map<String, String> env = new LinkedHashMap<>();
        private final Map<String, String> properties = new LinkedHashMap<>();
        private final List<String> jvmArgs = new ArrayList<>();
        private String mainClass;
        private Path executableJar;
        private final List<String> args = new ArrayList<>();
        private Consumer<JvmProcess> onStart = p -> { };

        private Builder(String name) {
            this.name = name;
        }

        Builder jdk(int feature) {
            this.jdk = feature;
            return this;
        }

        Builder agent(boolean attach) {
            this.agent = attach;
            return this;
        }

        Builder agent() {
            return agent(true);
        }

        Builder env(String key, String value) {
            env.put(key, value);
            return this;
        }

        Builder property(String key, String value) {
            properties.put(key, value);
            return this;
        }

        Builder jvmArg(String arg) {
            jvmArgs.add(arg);
            return this;
        }

        Builder main(Class<?> type) {
            this.mainClass = type.getName();
            return this;
        }

        /** Runs {@code java -jar <jar>} (its manifest's Main-Class) instead of a main class from the test-apps jar. */
        Builder jar(Path jar) {
            this.executableJar = jar;
            return this;
        }

        Builder args(Object... values) {
            Arrays.stream(values).map(String::valueOf).forEach(args::add);
            return this;
        }

        Builder onStart(Consumer<JvmProcess> callback) {
            this.onStart = callback;
            return this;
        }

        JvmProcess start() {
            if ((mainClass == null) == (executableJar == null)) {
                throw new IllegalStateException("either a main class or an executable jar for " + name);
            }
            List<String> command = new ArrayList<>();
            command.add(Jdks.java(jdk).toString());
            if (agent) {
                command.add("-javaagent:" + Artifacts.agentJar());
            }
            command.addAll(jvmArgs);
            properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
            if (executableJar != null) {
                command.add("-jar");
                command.add(executableJar.toString());
            } else {
                command.add("-cp");
                command.add(Artifacts.appJar().toString());
                command.add(mainClass);
            }
            command.addAll(args);

            try {
                Files.createDirectories(Artifacts.logDir());
                Path out = Artifacts.logDir().resolve(name + ".out");
                Path err = Artifacts.logDir().resolve(name + ".err");
                ProcessBuilder pb = new ProcessBuilder(command);
                Map<String, String> environment = pb.environment();
                environment.keySet().removeIf(k -> k.startsWith("CONNGUARD_"));
                environment.remove("JAVA_TOOL_OPTIONS");
                environment.remove("JDK_JAVA_OPTIONS");
                environment.remove("_JAVA_OPTIONS");
                environment.putAll(env);
                pb.redirectOutput(out.toFile());
                pb.redirectError(err.toFile());
                String commandLine = envText() + String.join(" ", command);
                Files.writeString(Artifacts.logDir().resolve(name + ".cmd"),
                        commandLine + "\n" + Artifacts.describeSnapshots(), StandardCharsets.UTF_8);
                JvmProcess started = new JvmProcess(name, commandLine, pb.start(), out, err);
                onStart.accept(started);
                return started;
            } catch (IOException e) {
                throw new AssertionError("cannot start " + name + ": " + e, e);
            }
        }

        private String envText() {
            StringBuilder sb = new StringBuilder();
            env.forEach((k, v) -> sb.append(k).append('=').append(v).append(' '));
            return sb.toString();
        }
    }
}

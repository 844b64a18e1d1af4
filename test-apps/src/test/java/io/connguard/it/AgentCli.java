package io.connguard.it;

import io.connguard.testapps.common.Processes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code java -jar connguard-agent.jar <args>} run as its own process (JDK 17), bounded: killed by
 * PID when it takes longer than the timeout. Output in {@code target/it-logs/cli-<n>.out/.err}.
 */
final class AgentCli {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    final List<String> command;
    final int exitCode;
    final String stdout;
    final String stderr;

    private AgentCli(List<String> command, int exitCode, String stdout, String stderr) {
        this.command = command;
        this.exitCode = exitCode;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    static AgentCli run(Duration timeout, Object... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Jdks.java(17).toString());
        command.add("-jar");
        command.add(Artifacts.agentJar().toString());
        for (Object a : args) {
            command.add(String.valueOf(a));
        }
        Files.createDirectories(Artifacts.logDir());
        String name = "cli-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        Path out = Artifacts.logDir().resolve(name + ".out");
        Path err = Artifacts.logDir().resolve(name + ".err");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("CONNGUARD_"));
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().remove("_JAVA_OPTIONS");
        Process process = pb.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            Processes.stop(process, 5_000);
            throw new AssertionError(String.join(" ", command) + " did not end within " + timeout + "; killed it (pid "
                    + process.pid() + ")\nstdout: " + Files.readString(out) + "\nstderr: " + Files.readString(err));
        }
        return new AgentCli(command, process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return String.join(" ", command) + "\nexit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
    }
}

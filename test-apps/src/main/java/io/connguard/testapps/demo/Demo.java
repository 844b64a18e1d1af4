package io.connguard.testapps.demo;

import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.connguard.testapps.client.LoadClient;
import io.connguard.testapps.common.Args;
import io.connguard.testapps.server.HarborLikeServer;
import io.connguard.testapps.server.ServerAdmin;

/**
 * The README's demo: a Harbor-like server that refuses clients beyond 8 open connections, and a
 * storm of clients against it, first without ConnGuard, then with it.
 *
 * <pre>
 * mvn -B -q -DskipTests package &amp;&amp; java -jar test-apps/target/connguard-test-apps.jar \
 *     [--kinds urlconnection,httpclient-shared] [--threads 64] [--requests 5] [--cap 8] [--delay-ms 40] \
 *     [--agent agent/target/connguard-agent.jar] [--timeout-seconds 120]
 * </pre>
 * Every JVM it starts is a child process, stopped by PID when the demo ends, fails or is interrupted.
 */
public final class Demo {

    static final String USAGE = "java -jar connguard-test-apps.jar [--kinds urlconnection,httpclient-shared]"
            + " [--threads 64] [--requests 5] [--cap 8] [--delay-ms 40] [--agent PATH] [--timeout-seconds 120]";

    private static final String AGENT_JAR = "connguard-agent.jar";

    private final Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
    private final String classPath = System.getProperty("java.class.path");
    private final ChildProcesses children;
    private final Path logs;
    private int logCounter;

    private Demo(ChildProcesses children, Path logs) {
        this.children = children;
        this.logs = logs;
    }

    private record Row(String kind, boolean agent, long requests, long failed, long peak, long elapsedMs, List<String> reasons) {
    }

    public static void main(String[] argv) throws Exception {
        List<String> kinds;
        int threads;
        int requests;
        int cap;
        int delayMs;
        int timeoutSeconds;
        Path agentJar;
        try {
            Args args = Args.parse(argv,
                    Set.of("kinds", "threads", "requests", "cap", "delay-ms", "agent", "timeout-seconds"),
                    Set.of());
            kinds = Arrays.stream(args.string("kinds", "urlconnection,httpclient-shared").split(","))
                    .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toList());
            threads = args.integer("threads", 64, 1, 1024);
            requests = args.integer("requests", 5, 1, 1000);
            cap = args.integer("cap", 8, 1, 10_000);
            delayMs = args.integer("delay-ms", 40, 0, 10_000);
            timeoutSeconds = args.integer("timeout-seconds", 120, 5, 3600);
            agentJar = locateAgentJar(args.string("agent", null));
        } catch (Args.UsageException e) {
            Args.exitWithUsage("demo", USAGE, e);
            return;
        }
        if (agentJar == null) {
            System.exit(2);
            return;
        }

        Path logs = Files.createTempDirectory("connguard-demo-");
        int exit;
        try (ChildProcesses children = new ChildProcesses()) {
            exit = new Demo(children, logs).run(agentJar, kinds, threads, requests, cap, delayMs, timeoutSeconds);
        } catch (Exception e) {
            System.err.println("demo failed: " + e.getMessage());
            System.err.println("child logs: " + logs);
            exit = 1;
        }
        System.exit(exit);
    }

    private int run(Path agentJar, List<String> kinds, int threads, int requests, int cap, int delayMs, int timeoutSeconds)
            throws Exception {
        System.out.println("ConnGuard demo: a Harbor-like server that answers 401 beyond " + cap + " open connections,");
        System.out.println("and " + threads + " threads x " + requests + " GETs per client, without and with the agent.");
        System.out.println("agent: " + agentJar);
        System.out.println("child logs: " + logs);
        System.out.println();

        Launch serverLaunch = javaCommand(List.of(), HarborLikeServer.class.getName(),
                "--port", "0", "--admin-port", "0", "--cap", String.valueOf(cap), "--delay-ms", String.valueOf(delayMs));
        Process server = children.start(serverLaunch.builder());
        Map<String, Long> ports = awaitListening(server, serverLaunch.out(), 30);
        int port = ports.get("port").intValue();
        ServerAdmin admin = new ServerAdmin(ports.get("admin").intValue());
        String url = "http://127.0.0.1:" + port + "/v2/library/app/blobs/sha256:0123456789abcdef";

        List<Row> rows = new ArrayList<>();
        for (String kind : kinds) {
            for (boolean withAgent : new boolean[] {false, true}) {
                admin.awaitIdle(5_000);
                admin.reset();
                System.out.println("running " + kind + (withAgent ? " with" : " without") + " the agent ...");
                Row row = runClient(kind, withAgent, agentJar, url, threads, requests, cap, timeoutSeconds, admin);
                rows.add(row);
            }
        }
        ChildProcesses.stop(server);
        printTable(rows);
        return 0;
    }

    private Row runClient(String kind, boolean withAgent, Path agentJar, String url, int threads, int requests, int cap,
            int timeoutSeconds, ServerAdmin admin) throws Exception {
        List<String> jvm = new ArrayList<>();
        if (withAgent) {
            jvm.add("-javaagent:" + agentJar);
        }
        Launch launch = javaCommand(jvm, LoadClient.class.getName(),
                "--kind", kind, "--url", url, "--threads", String.valueOf(threads), "--requests", String.valueOf(requests),
                "--deadline-ms", String.valueOf(TimeUnit.SECONDS.toMillis(timeoutSeconds) - 5_000));
        if (withAgent) {
            launch.builder().environment().put("CONNGUARD_HOST_LIMITS", "127.0.0.1=" + cap);
        }
        Process client = children.start(launch.builder());
        Path out = launch.out();
        long total = (long) threads * requests;
        if (!client.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            ChildProcesses.stop(client);
            throw new IllegalStateException("client " + kind + " did not finish in " + timeoutSeconds + " s; see " + out);
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        Map<String, Long> result = lines.stream().filter(l -> l.startsWith("RESULT ")).findFirst()
                .map(ServerAdmin::parse)
                .orElseThrow(() -> new IllegalStateException("client " + kind + " printed no RESULT line (exit "
                        + client.exitValue() + "); see " + out + " and " + launch.err()));
        List<String> reasons = lines.stream().filter(l -> l.startsWith("FAIL ")).limit(3).collect(Collectors.toList());
        Map<String, Long> stats = admin.stats();
        return new Row(kind, withAgent, total, result.getOrDefault("failed", -1L), stats.getOrDefault("peak", -1L),
                result.getOrDefault("elapsedMs", -1L), reasons);
    }

    private static void printTable(List<Row> rows) {
        String format = "%-24s %-6s %9s %8s %12s %10s%n";
        System.out.println();
        System.out.printf(format, "client kind", "agent", "requests", "failed", "server peak", "elapsed");
        System.out.printf(format, "-".repeat(24), "-".repeat(6), "-".repeat(9), "-".repeat(8), "-".repeat(12), "-".repeat(10));
        for (Row row : rows) {
            System.out.printf(format, row.kind(), row.agent() ? "on" : "off", row.requests(), row.failed(), row.peak(),
                    row.elapsedMs() + " ms");
        }
        System.out.println();
        for (Row row : rows) {
            for (String reason : row.reasons()) {
                System.out.println("  " + row.kind() + " (agent " + (row.agent() ? "on" : "off") + "): " + reason);
            }
        }
        System.out.println("server peak = most connections the server had open when it judged a request;"
                + " above the cap it answers 401 like Harbor does when its database pool is full.");
    }

    /** A child JVM ready to start, and where its output goes. */
    private record Launch(ProcessBuilder builder, Path out, Path err) {
    }

    private Launch javaCommand(List<String> jvmArgs, String mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(classPath);
        command.add(mainClass);
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        // The comparison must not be skewed by the caller's environment.
        builder.environment().keySet().removeIf(k -> k.startsWith("CONNGUARD_"));
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().remove("JDK_JAVA_OPTIONS");
        logCounter++;
        String name = mainClass.substring(mainClass.lastIndexOf('.') + 1) + "-" + logCounter;
        Path out = logs.resolve(name + ".out");
        Path err = logs.resolve(name + ".err");
        builder.redirectOutput(out.toFile());
        builder.redirectError(err.toFile());
        return new Launch(builder, out, err);
    }

    /** Waits for {@code LISTENING port=P admin=A} in the server's stdout file. */
    private static Map<String, Long> awaitListening(Process server, Path out, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
                if (line.startsWith("LISTENING ")) {
                    return ServerAdmin.parse(line);
                }
            }
            if (!server.isAlive()) {
                throw new IllegalStateException("the server exited with " + server.exitValue() + " before listening; see " + out);
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the server printed no LISTENING line in " + seconds + " s; see " + out);
    }

    /**
     * The agent jar: {@code --agent}, else {@code agent/target/connguard-agent.jar} under the
     * working directory, else {@code ../../agent/target/} next to this jar. Prints what it tried.
     */
    static Path locateAgentJar(String explicit) {
        Set<Path> candidates = new LinkedHashSet<>();
        if (explicit != null) {
            candidates.add(Paths.get(explicit).toAbsolutePath().normalize());
        } else {
            candidates.add(Paths.get("agent", "target", AGENT_JAR).toAbsolutePath().normalize());
            Path codeDir = ownLocation();
            if (codeDir != null) {
                candidates.add(codeDir.resolve("../../agent/target/" + AGENT_JAR).normalize());
            }
        }
        for (Path candidate : candidates) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        System.err.println("demo: the ConnGuard agent jar was not found; looked for:");
        candidates.forEach(c -> System.err.println("  " + c));
        System.err.println("run mvn -B -DskipTests package first (from the repository root), or pass --agent PATH");
        return null;
    }

    /** The directory holding this jar (or the classes directory's parent when run from classes). */
    private static Path ownLocation() {
        try {
            var source = Demo.class.getProtectionDomain().getCodeSource();
            if (source == null) {
                return null;
            }
            return Paths.get(source.getLocation().toURI()).toAbsolutePath().getParent();
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            return null;
        }
    }
}

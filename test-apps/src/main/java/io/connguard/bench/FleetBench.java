package io.connguard.bench;

import io.connguard.bench.PairedForks.Fork;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static io.connguard.bench.PairedForks.BASELINE;
import static io.connguard.bench.PairedForks.halfWidth95;
import static io.connguard.bench.PairedForks.mean;
import static io.connguard.bench.PairedForks.paired;

/**
 * What fleet mode costs a whole process: a client JVM doing plain {@code new Socket()}
 * connect+close (SO_LINGER 0) in a loop ({@link ConnectLoopMain} {@code --port}) against an
 * accept-and-close server in this JVM on 127.0.0.1, in three variants, one child JVM per variant
 * and round, the variants' order rotated every round:
 *
 * <ul>
 * <li>{@code WithoutAgent}: no agent;</li>
 * <li>{@code LocalOnly}: the agent with {@code CONNGUARD_HOST_LIMITS=127.0.0.1:<port>=64};</li>
 * <li>{@code Fleet}: the same, and {@code CONNGUARD_FLEET_REDIS} (a {@code redis-server} this
 *     process starts on a free loopback port and stops by PID) with
 *     {@code CONNGUARD_FLEET_LIMITS=127.0.0.1:<port>=1000}, a fleet cap far above what one
 *     sequential client holds.</li>
 * </ul>
 *
 * Each round's figures are paired ({@link PairedForks}): ratios of connects per second Fleet /
 * LocalOnly, Fleet / WithoutAgent and LocalOnly / WithoutAgent, with the 95% half-width over the
 * rounds, and the connecting thread's CPU time per connect. For every Fleet child, the
 * {@code EVALSHA} calls Redis answered during that child's life ({@code INFO commandstats},
 * warm-up, measured loop and the shutdown release together) and the exchanges the agent counted
 * ({@code FleetExchanges} over JMX), per connect; a Fleet child that fell back to its local
 * fallback cap, or never reached Redis, fails the run.
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar io.connguard.bench.FleetBench
 *      [--agent agent/target/connguard-agent.jar] [--java &lt;java or JDK home&gt;] [--rounds 5]
 *      [--connects 20000] [--warmup 5000] [--local-limit 64] [--fleet-cap 1000] [--timeout-seconds 120]
 * </pre>
 */
public final class FleetBench {

    private static final Set<String> VALUE_OPTIONS = Set.of("--agent", "--java", "--rounds", "--connects", "--warmup",
            "--local-limit", "--fleet-cap", "--timeout-seconds");
    private static final Set<String> FLAG_OPTIONS = Set.of("--help");
    private static final List<String> JVM_OPTION_VARIABLES = List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS",
            "_JAVA_OPTIONS");

    static final String LOCAL = "LocalOnly";
    static final String FLEET = "Fleet";
    private static final List<String> VARIANTS = List.of(BASELINE, LOCAL, FLEET);
    private static final String CLIENT = "socket";

    private FleetBench() {
    }

    /** One child's figures besides the rate. */
    private record Extra(long connects, long evalsha, long exchanges) {
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs args;
        try {
            args = new BenchArgs(argv, VALUE_OPTIONS, FLAG_OPTIONS);
        } catch (IllegalArgumentException e) {
            System.err.println("FleetBench: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (args.flag("--help")) {
            System.out.println("java -cp connguard-test-apps.jar io.connguard.bench.FleetBench [--agent <jar>]"
                    + " [--java <java or JDK home>] [--rounds N] [--connects N] [--warmup N] [--local-limit N]"
                    + " [--fleet-cap N] [--timeout-seconds N]");
            return;
        }
        Path agent = PairedForks.agent(args, "FleetBench");
        String java = PairedForks.java(args);
        if (java == null) {
            java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        }
        int rounds = Math.max(1, args.integer("--rounds", 5));
        int connects = Math.max(1, args.integer("--connects", 20_000));
        int warmup = args.integer("--warmup", 5_000);
        int localLimit = Math.max(1, args.integer("--local-limit", 64));
        int fleetCap = Math.max(1, args.integer("--fleet-cap", 1000));
        int timeout = Math.max(5, args.integer("--timeout-seconds", 120));

        String loadBefore = ProcessBench.loadAverage();
        long started = System.nanoTime();
        Map<String, List<Fork>> forks = new LinkedHashMap<>();
        List<Extra> fleetExtras = new ArrayList<>();
        String jdk;
        try (BenchRedis redis = BenchRedis.start(); Loopback.AcceptCloseServer server = new Loopback.AcceptCloseServer()) {
            int port = server.endpoint().getPort();
            String target = "127.0.0.1:" + port;
            Map<String, Map<String, String>> env = new LinkedHashMap<>();
            env.put(BASELINE, Map.of());
            env.put(LOCAL, Map.of("CONNGUARD_HOST_LIMITS", target + "=" + localLimit));
            env.put(FLEET, Map.of("CONNGUARD_HOST_LIMITS", target + "=" + localLimit,
                    "CONNGUARD_FLEET_REDIS", redis.url(), "CONNGUARD_FLEET_LIMITS", target + "=" + fleetCap));
            progress("redis-server pid " + redis.pid() + " on " + redis.url() + "; server on " + target + "; agent "
                    + agent + "; " + rounds + " round(s) x " + VARIANTS.size() + " variants, " + connects
                    + " connects after " + warmup + " warm-up each");
            jdk = run(java, null, Map.of(), List.of("-XshowSettings:properties", "-version"), List.of(), timeout, true)
                    .lines().filter(l -> l.trim().startsWith("java.version =") || l.trim().startsWith("java.vm.name ="))
                    .map(String::trim).collect(Collectors.joining(", "));
            for (int round = 0; round < rounds; round++) {
                List<String> order = new ArrayList<>(VARIANTS);
                Collections.rotate(order, round);
                for (String variant : order) {
                    long evalshaBefore = redis.evalshaCalls();
                    String out = run(java, variant.equals(BASELINE) ? null : agent, env.get(variant), List.of(),
                            List.of(ConnectLoopMain.class.getName(), "--port", String.valueOf(port), "--iterations",
                                    String.valueOf(connects), "--warmup", String.valueOf(warmup), "--close", "rst",
                                    "--agent-stats"), timeout, false);
                    // The child's shutdown hook gives its permits back before it exits: counted here too.
                    long evalsha = redis.evalshaCalls() - evalshaBefore;
                    double rate = Double.parseDouble(value(out, "ops_per_sec"));
                    double cpu = Double.parseDouble(value(out, "thread_cpu_us_per_op"));
                    check(variant, out, connects + warmup, evalsha);
                    forks.computeIfAbsent(variant, v -> new ArrayList<>()).add(new Fork(rate, Double.NaN, cpu, Double.NaN));
                    String detail = "";
                    if (variant.equals(FLEET)) {
                        long exchanges = Long.parseLong(value(out, "agent_fleet_exchanges"));
                        fleetExtras.add(new Extra(connects + warmup, evalsha, exchanges));
                        detail = String.format(Locale.ROOT, ", Redis EVALSHA %d (%.2f per 1,000 connects), agent exchanges %d",
                                evalsha, evalsha * 1000.0 / (connects + warmup), exchanges);
                    }
                    progress(String.format(Locale.ROOT, "round %d %-12s %,9.0f connects/s, thread CPU %6.2f µs/connect%s",
                            round + 1, variant, rate, cpu, detail));
                }
            }
        }
        double minutes = (System.nanoTime() - started) / 60e9;
        System.out.print(report(argv, agent, java, jdk, rounds, connects, warmup, localLimit, fleetCap, loadBefore,
                minutes, forks, fleetExtras));
    }

    /** Each variant is what it claims: no agent, the agent without fleet, the agent in fleet mode throughout. */
    private static void check(String variant, String out, long expectedConnects, long evalsha) {
        if (variant.equals(BASELINE)) {
            if (!"none".equals(value(out, "agent"))) {
                throw new IllegalStateException("the without-agent child runs an agent:\n" + out);
            }
            return;
        }
        long governed = Long.parseLong(value(out, "agent_connects"));
        if (governed < expectedConnects) {
            throw new IllegalStateException(variant + ": the agent governed only " + governed + " of "
                    + expectedConnects + " connects:\n" + out);
        }
        String store = value(out, "agent_fleet_store");
        if (variant.equals(LOCAL)) {
            if (!store.isEmpty() || evalsha != 0) {
                throw new IllegalStateException("the local-only child is in fleet mode (store '" + store + "', "
                        + evalsha + " EVALSHA):\n" + out);
            }
            return;
        }
        if (store.isEmpty() || evalsha == 0 || Long.parseLong(value(out, "agent_fleet_fallbacks")) != 0
                || Boolean.parseBoolean(value(out, "agent_fleet_store_down"))) {
            throw new IllegalStateException("the fleet child did not run in fleet mode throughout (store '" + store
                    + "', " + evalsha + " EVALSHA seen by Redis):\n" + out);
        }
    }

    private static String report(String[] argv, Path agent, String java, String jdk, int rounds, int connects,
                                 int warmup, int localLimit, int fleetCap, String loadBefore, double minutes,
                                 Map<String, List<Fork>> forks, List<Extra> fleetExtras) {
        StringBuilder md = new StringBuilder();
        md.append("\n#### FleetBench: ").append(jdk).append("\n\n");
        md.append("- Command: `java -cp ").append(System.getProperty("java.class.path")).append(' ')
                .append(FleetBench.class.getName()).append(argv.length == 0 ? "" : " " + String.join(" ", argv))
                .append("`\n");
        md.append("- Child JVM: `").append(java).append("`; agent: `").append(agent).append("`\n");
        md.append(String.format(Locale.ROOT, "- %d round(s) x 3 variants, one child JVM each, order rotated per round;"
                + " %,d connect+close (SO_LINGER 0) measured after %,d warm-up; local cap %d, fleet cap %d;"
                + " %.1f minutes in all%n", rounds, connects, warmup, localLimit, fleetCap, minutes));
        md.append("- Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs");
        if (!loadBefore.isEmpty()) {
            md.append("; load average before ").append(loadBefore).append(", after ").append(ProcessBench.loadAverage());
        }
        md.append("\n\n");
        md.append("| Variant | connects/s (mean) | thread CPU µs/connect (mean) |\n|---|---:|---:|\n");
        for (String v : VARIANTS) {
            md.append(String.format(Locale.ROOT, "| %s | %,.0f | %.2f |%n", v, mean(forks.get(v), Fork::score),
                    mean(forks.get(v), Fork::cpuWorkerUs)));
        }
        md.append("\nPaired per round (ratio of connects/s; thread CPU difference), mean ± 95% half-width:\n\n");
        md.append("| Pair | throughput ratio | thread CPU difference µs/connect |\n|---|---:|---:|\n");
        String[][] pairs = {{FLEET, LOCAL}, {FLEET, BASELINE}, {LOCAL, BASELINE}};
        for (String[] p : pairs) {
            md.append(String.format(Locale.ROOT, "| %s / %s | %s | %s |%n", p[0], p[1],
                    meanPm(paired(forks, p[0], p[1], (x, y) -> x / y, Fork::score), "%.3f"),
                    meanPm(paired(forks, p[0], p[1], (x, y) -> x - y, Fork::cpuWorkerUs), "%+.2f")));
        }
        long totalConnects = fleetExtras.stream().mapToLong(Extra::connects).sum();
        long totalEvalsha = fleetExtras.stream().mapToLong(Extra::evalsha).sum();
        long totalExchanges = fleetExtras.stream().mapToLong(Extra::exchanges).sum();
        md.append(String.format(Locale.ROOT, "%nRedis, Fleet children: %,d connects in all, %,d EVALSHA calls answered by"
                        + " Redis (%.2f per 1,000 connects; per child: %s), %,d exchanges counted by the agents"
                        + " (FleetExchanges, before their shutdown release).%n%n", totalConnects, totalEvalsha,
                totalEvalsha * 1000.0 / Math.max(1, totalConnects),
                fleetExtras.stream().map(e -> String.valueOf(e.evalsha())).collect(Collectors.joining(", ")),
                totalExchanges));
        md.append("Per child (connects/s; thread CPU µs/connect), by round:\n\n| Variant |");
        for (int i = 1; i <= rounds; i++) {
            md.append(" round ").append(i).append(" |");
        }
        md.append("\n|---|").append("---|".repeat(rounds)).append('\n');
        for (String v : VARIANTS) {
            md.append("| ").append(v).append(" |");
            for (Fork f : forks.get(v)) {
                md.append(String.format(Locale.ROOT, " %,.0f; %.2f |", f.score(), f.cpuWorkerUs()));
            }
            md.append('\n');
        }
        return md.toString();
    }

    private static String meanPm(double[] xs, String format) {
        if (xs == null || xs.length == 0) {
            return "—";
        }
        String m = String.format(Locale.ROOT, format, mean(xs));
        return xs.length < 2 ? m : m + " ± " + String.format(Locale.ROOT, format.replace("+", ""), halfWidth95(xs));
    }

    /**
     * Runs one child JVM to its end within {@code timeoutSeconds} (destroyed by PID, with its
     * descendants, otherwise) and returns its standard output (and error, if {@code mergeErr}).
     */
    private static String run(String java, Path agent, Map<String, String> extraEnv, List<String> jvmOptions,
                              List<String> mainAndArgs, int timeoutSeconds, boolean mergeErr) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        if (agent != null) {
            cmd.add("-javaagent:" + agent);
        }
        cmd.addAll(jvmOptions);
        if (!mainAndArgs.isEmpty()) {
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.addAll(mainAndArgs);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("CONNGUARD_") || JVM_OPTION_VARIABLES.contains(k));
        env.putAll(extraEnv);
        File out = File.createTempFile("fleetbench-out-", ".txt");
        File err = File.createTempFile("fleetbench-err-", ".txt");
        try {
            pb.redirectOutput(out).redirectError(mergeErr ? out : err).redirectInput(ProcessBuilder.Redirect.from(
                    new File("/dev/null")));
            if (mergeErr) {
                pb.redirectErrorStream(true);
            }
            Process p = pb.start();
            boolean done;
            try {
                done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            } finally {
                if (p.isAlive()) {
                    List<ProcessHandle> descendants = p.descendants().collect(Collectors.toList());
                    p.destroyForcibly();
                    descendants.forEach(ProcessHandle::destroyForcibly);
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            }
            String stdout = Files.readString(out.toPath(), StandardCharsets.UTF_8);
            String stderr = mergeErr ? "" : Files.readString(err.toPath(), StandardCharsets.UTF_8);
            if (!done || p.exitValue() != 0) {
                throw new IllegalStateException("child " + (done ? "exited with " + p.exitValue()
                        : "(pid " + p.pid() + ") did not finish within " + timeoutSeconds + " s") + ": "
                        + String.join(" ", cmd) + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
            }
            return stdout;
        } finally {
            Files.deleteIfExists(out.toPath());
            Files.deleteIfExists(err.toPath());
        }
    }

    private static String value(String out, String key) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(key) + "=(.*?)\\s*$").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("the child printed no '" + key + "=' line; output:\n" + out);
        }
        return m.group(1);
    }

    private static void progress(String line) {
        System.err.println("[fleetbench] " + line);
    }
}

package io.connguard.bench;

import io.connguard.bench.jmh.ConnGuardAgentProfiler;
import io.connguard.bench.jmh.CpuPerOpProfiler;
import io.connguard.bench.jmh.LeakHookPathBenchmark;
import io.connguard.bench.jmh.LeakTrackingBenchmark;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import java.util.regex.Pattern;

/**
 * Runs {@link LeakTrackingBenchmark} (the cost of leak tracking per keep-alive request, per client
 * and per {@code CONNGUARD_LEAK_STACKS} mode) as one JMH fork per client and variant, in rounds:
 * within a round each client's variants run back to back, in an order rotated every round, so that
 * a slow phase of a noisy machine hits every variant alike. The ratio of a variant is computed per
 * round against the without-agent fork of the same round and client (paired), then averaged; its
 * error is the 95% confidence half-width of those paired ratios (Student's t), i.e. it includes the
 * fork-to-fork spread, which on a small machine is larger than the spread within a fork.
 *
 * <p>Besides ops/s, every fork reports CPU time per request (the whole process, and the benchmark
 * thread alone; {@link CpuPerOpProfiler}) and bytes allocated per request (JMH's {@code gc}
 * profiler), which are far less disturbed by the neighbours than wall-clock throughput.
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar io.connguard.bench.LeakTrackingBench
 *      [--agent agent/target/connguard-agent.jar] [--java &lt;java or JDK home&gt;] [--rounds 3]
 *      [--clients apache4,okhttp,urlconnection,httpclient]
 *      [--variants WithoutAgent,StacksOff,StacksSampled,StacksAll] (ThresholdOff on request)
 *      [--warmup 6] [--iterations 4] [--iteration-ms 1000] [--log &lt;JMH output file&gt;]
 * </pre>
 * The plain JMH command runs the same benchmark without the pairing:
 * {@code org.openjdk.jmh.Main LeakTrackingBenchmark -prof io.connguard.bench.jmh.ConnGuardAgentProfiler}.
 *
 * <p>{@code --hook-path} runs {@link LeakHookPathBenchmark} the same way instead (clients
 * {@code apache4}, {@code okhttp}; all five variants; 3 x 1 s warm-up, 5 x 1 s measured by default;
 * {@code --depth N} sets its stack depth): the agent's own work per request in nanoseconds, which
 * a noisy machine cannot hide the way it hides a few percent of a whole request.
 */
public final class LeakTrackingBench {

    private static final Set<String> VALUE_OPTIONS = Set.of("--agent", "--java", "--rounds", "--clients", "--variants",
            "--warmup", "--iterations", "--iteration-ms", "--depth", "--log");
    private static final Set<String> FLAG_OPTIONS = Set.of("--hook-path", "--help");

    private static final String BASELINE = "WithoutAgent";
    private static final List<String> ALL_VARIANTS = List.of(BASELINE, "StacksOff", "StacksSampled", "StacksAll",
            "ThresholdOff");
    /** ThresholdOff only on request: with it a run no longer fits in ten minutes on 2 CPUs. */
    private static final List<String> DEFAULT_VARIANTS = ALL_VARIANTS.subList(0, 4);
    private static final List<String> ALL_CLIENTS = List.of("apache4", "okhttp", "urlconnection", "httpclient");
    private static final List<String> HOOK_PATH_CLIENTS = List.of("apache4", "okhttp");
    /** What each variant runs, for the table. */
    private static final Map<String, String> SETTINGS = Map.of(
            BASELINE, "no agent",
            "StacksOff", "`CONNGUARD_LEAK_STACKS=off`",
            "StacksSampled", "`sampled` (default)",
            "StacksAll", "`all`",
            "ThresholdOff", "`sampled`, `CONNGUARD_LEAK_THRESHOLD=off`");

    private static final String CPU_PROCESS = "cpu.process";
    private static final String CPU_WORKER = "cpu.worker";
    private static final String ALLOC = "gc.alloc.rate.norm";

    private LeakTrackingBench() {
    }

    /**
     * One fork's medians over its measurement iterations. {@code score}: ops/s for the keep-alive
     * loop, ns/op for the hook path.
     */
    private record Fork(double score, double cpuProcessUs, double cpuWorkerUs, double allocBytes) {
    }

    /** What is run, and its defaults. */
    private record Bench(Class<?> type, boolean hookPath, List<String> clients, List<String> variants, int warmup,
                         int iterations) {
    }

    private static final Bench LOOP = new Bench(LeakTrackingBenchmark.class, false, ALL_CLIENTS, DEFAULT_VARIANTS,
            6, 4);
    private static final Bench HOOK_PATH = new Bench(LeakHookPathBenchmark.class, true, HOOK_PATH_CLIENTS, ALL_VARIANTS,
            3, 5);

    public static void main(String[] argv) throws Exception {
        BenchArgs args;
        try {
            args = new BenchArgs(argv, VALUE_OPTIONS, FLAG_OPTIONS);
        } catch (IllegalArgumentException e) {
            System.err.println("LeakTrackingBench: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (args.flag("--help")) {
            System.out.println("java -cp connguard-test-apps.jar io.connguard.bench.LeakTrackingBench [--agent <jar>]"
                    + " [--java <java or JDK home>] [--rounds N] [--clients " + String.join(",", ALL_CLIENTS) + "]"
                    + " [--variants " + String.join(",", ALL_VARIANTS) + "] [--warmup N] [--iterations N]"
                    + " [--iteration-ms N] [--log file] [--hook-path [--depth N]]");
            return;
        }
        String agentOption = args.string("--agent", System.getProperty("connguard.agent.jar",
                "agent/target/connguard-agent.jar"));
        Path agent = Paths.get(agentOption).toAbsolutePath().normalize();
        if (!Files.isRegularFile(agent)) {
            System.err.println("LeakTrackingBench: ConnGuard agent jar not found: " + agent + ". Build it with"
                    + " `mvn -B -q install -DskipTests` in the project root and run from there, or pass --agent <jar>.");
            System.exit(2);
        }
        Bench bench = args.flag("--hook-path") ? HOOK_PATH : LOOP;
        List<String> clients = args.string("--clients", null) == null ? bench.clients()
                : list(args.string("--clients", null), bench.clients(), "--clients");
        List<String> variants = args.string("--variants", null) == null ? bench.variants()
                : list(args.string("--variants", null), ALL_VARIANTS, "--variants");
        if (!variants.contains(BASELINE)) {
            variants = new ArrayList<>(variants);
            variants.add(0, BASELINE); // every ratio needs it
        }
        int rounds = Math.max(1, args.integer("--rounds", 3));
        int warmup = args.integer("--warmup", bench.warmup());
        int iterations = Math.max(1, args.integer("--iterations", bench.iterations()));
        String depth = args.string("--depth", null);
        if (depth != null && !bench.hookPath()) {
            throw new IllegalArgumentException("--depth is for --hook-path only");
        }
        int iterationMs = Math.max(100, args.integer("--iteration-ms", 1000));
        String java = args.string("--java", null);
        if (java != null && Files.isDirectory(Paths.get(java))) {
            java = Paths.get(java, "bin", "java").toString();
        }
        Path log = args.string("--log", null) != null ? Paths.get(args.string("--log", null))
                : Files.createTempFile("connguard-leakbench-", ".log");

        String loadBefore = loadAverage();
        long started = System.nanoTime();
        progress(bench.type().getSimpleName() + ", agent " + agent + "; " + rounds + " round(s) x " + clients.size()
                + " client(s) x " + variants.size() + " variants, one fork each: " + warmup + " x " + iterationMs + " ms warm-up, "
                + iterations + " x " + iterationMs + " ms measured; JMH output in " + log);

        // results.get(client).get(variant).get(round)
        Map<String, Map<String, List<Fork>>> results = new LinkedHashMap<>();
        try (PrintStream jmhOut = new PrintStream(new FileOutputStream(log.toFile(), true), true,
                StandardCharsets.UTF_8)) {
            PrintStream stdout = System.out;
            System.setOut(jmhOut); // what the forks print (their checks) goes to the log, not into the report
            try {
                for (int round = 0; round < rounds; round++) {
                    for (String client : clients) {
                        List<String> order = new ArrayList<>(variants);
                        Collections.rotate(order, round);
                        for (String variant : order) {
                            Fork f = runFork(bench, client, depth, variant, agent, java, warmup, iterations,
                                    iterationMs, jmhOut);
                            results.computeIfAbsent(client, c -> new LinkedHashMap<>())
                                    .computeIfAbsent(variant, v -> new ArrayList<>()).add(f);
                            progress(bench.hookPath()
                                    ? String.format(Locale.ROOT, "round %d %-13s %-13s %,9.1f ns/op  %,6.0f B/op",
                                            round + 1, client, variant, f.score(), f.allocBytes())
                                    : String.format(Locale.ROOT, "round %d %-13s %-13s %,9.0f ops/s  process CPU"
                                                    + " %6.2f µs/op  worker CPU %6.2f µs/op  %,6.0f B/op", round + 1,
                                            client, variant, f.score(), f.cpuProcessUs(), f.cpuWorkerUs(),
                                            f.allocBytes()));
                        }
                    }
                }
            } finally {
                System.setOut(stdout);
            }
        }
        double minutes = (System.nanoTime() - started) / 60e9;
        String header = header(bench, argv, agent, java, rounds, warmup, iterations, iterationMs, loadBefore, minutes);
        System.out.print(header + (bench.hookPath() ? hookPathReport(results, variants, rounds)
                : loopReport(results, variants, rounds)));
    }

    private static Fork runFork(Bench bench, String client, String depth, String variant, Path agent, String java,
                                int warmup, int iterations, int iterationMs, PrintStream jmhOut)
            throws RunnerException {
        String benchmark = bench.type().getName() + "." + variant + ".request";
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include("^" + Pattern.quote(benchmark) + "$")
                .param("client", client)
                .forks(1)
                .warmupIterations(warmup)
                .warmupTime(TimeValue.milliseconds(iterationMs))
                .measurementIterations(iterations)
                .measurementTime(TimeValue.milliseconds(iterationMs))
                .addProfiler(ConnGuardAgentProfiler.class, "jar=" + agent)
                .addProfiler(GCProfiler.class)
                .shouldFailOnError(true);
        if (!bench.hookPath()) {
            options.addProfiler(CpuPerOpProfiler.class);
        }
        if (depth != null) {
            options.param("depth", depth);
        }
        if (java != null) {
            options.jvm(java);
        }
        Collection<RunResult> runs = new Runner(options.build(),
                OutputFormatFactory.createFormatInstance(jmhOut, VerboseMode.NORMAL)).run();
        if (runs.size() != 1) {
            throw new IllegalStateException("expected one result for " + benchmark + " client=" + client + ", got "
                    + runs.size() + " (see the JMH output)");
        }
        List<IterationResult> measured = new ArrayList<>();
        for (BenchmarkResult b : runs.iterator().next().getBenchmarkResults()) {
            measured.addAll(b.getIterationResults());
        }
        return new Fork(median(measured, i -> i.getPrimaryResult().getScore()),
                median(measured, i -> secondary(i, CPU_PROCESS)), median(measured, i -> secondary(i, CPU_WORKER)),
                median(measured, i -> secondary(i, ALLOC)));
    }

    private static double secondary(IterationResult iteration, String name) {
        Result r = iteration.getSecondaryResults().get(name);
        return r == null ? Double.NaN : r.getScore();
    }

    /**
     * The median over a fork's measurement iterations: a neighbour's burst of CPU use on a small
     * shared machine slows one or two iterations by tens of percent, which the mean would carry.
     */
    private static double median(List<IterationResult> iterations, ToDoubleFunction<IterationResult> value) {
        double[] xs = iterations.stream().mapToDouble(value).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (xs.length == 0) {
            return Double.NaN;
        }
        return xs.length % 2 == 1 ? xs[xs.length / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
    }

    private static String header(Bench bench, String[] argv, Path agent, String java, int rounds, int warmup,
                                 int iterations, int iterationMs, String loadBefore, double minutes) {
        StringBuilder md = new StringBuilder();
        md.append("\n#### LeakTrackingBench").append(bench.hookPath() ? " --hook-path" : "").append(": JDK ")
                .append(System.getProperty("java.version"))
                .append(java == null ? "" : " (host; forks: " + java + ")").append("\n\n");
        md.append("- Command: `java -cp ").append(System.getProperty("java.class.path")).append(' ')
                .append(LeakTrackingBench.class.getName()).append(argv.length == 0 ? "" : " " + String.join(" ", argv))
                .append("`\n");
        md.append("- Agent: `").append(agent).append("`\n");
        md.append(String.format(Locale.ROOT, "- %s: %d round(s); per client and variant one JMH fork per round, %d x %d"
                + " ms warm-up, %d x %d ms measured; %.1f minutes in all%n", bench.type().getSimpleName(), rounds,
                warmup, iterationMs, iterations, iterationMs, minutes));
        md.append("- Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs");
        if (!loadBefore.isEmpty()) {
            md.append("; load average before ").append(loadBefore).append(", after ").append(loadAverage());
        }
        md.append("\n\n");
        return md.toString();
    }

    private static String loopReport(Map<String, Map<String, List<Fork>>> results, List<String> variants,
                                     int rounds) {
        StringBuilder md = new StringBuilder();
        md.append("| Client | Leak stacks | ops/s without agent | ops/s with agent | ratio | ± (95%) | µs/request"
                + " | process CPU µs/request | B/request |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            List<Fork> base = c.getValue().get(BASELINE);
            double baseOps = mean(base, Fork::score);
            double baseCpu = mean(base, Fork::cpuProcessUs);
            double baseAlloc = mean(base, Fork::allocBytes);
            for (String variant : variants) {
                if (variant.equals(BASELINE)) {
                    continue;
                }
                List<Fork> forks = c.getValue().get(variant);
                double[] ratios = new double[forks.size()];
                for (int i = 0; i < ratios.length; i++) {
                    ratios[i] = forks.get(i).score() / base.get(i).score();
                }
                double ops = mean(forks, Fork::score);
                double cpu = mean(forks, Fork::cpuProcessUs);
                double alloc = mean(forks, Fork::allocBytes);
                md.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %,.0f | %.3f | %s | %+.2f | %.1f → %.1f (%+.1f%%)"
                                + " | %,.0f → %,.0f |%n", c.getKey(), SETTINGS.get(variant), baseOps, ops,
                        mean(ratios), ratios.length < 2 ? "—" : String.format(Locale.ROOT, "%.3f", halfWidth95(ratios)),
                        1e6 / ops - 1e6 / baseOps, baseCpu, cpu, (cpu / baseCpu - 1) * 100, baseAlloc, alloc));
            }
        }
        md.append("\n\"ratio\": with agent / without, the mean of the per-round paired ratios; \"±\": the 95% confidence"
                + " half-width of those ratios. \"µs/request\": wall time per request, with minus without."
                + " CPU and bytes per request: without → with agent (whole process, including the in-process server).\n\n");

        md.append("Per fork (ops/s; process CPU µs/op; benchmark-thread CPU µs/op; B/op), by round:\n\n");
        md.append("| Client | Variant | ").append(String.join(" | ", roundHeaders(rounds))).append(" |\n");
        md.append("|---|---|").append("---|".repeat(rounds)).append('\n');
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            for (String variant : variants) {
                md.append("| ").append(c.getKey()).append(" | ").append(variant).append(" |");
                for (Fork f : c.getValue().get(variant)) {
                    md.append(String.format(Locale.ROOT, " %,.0f; %.2f; %.2f; %,.0f |", f.score(), f.cpuProcessUs(),
                            f.cpuWorkerUs(), f.allocBytes()));
                }
                md.append('\n');
            }
        }
        md.append('\n');

        md.append("Against the budget (keep-alive throughput with the agent within 2% of without), default stacks:\n\n");
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            List<Fork> base = c.getValue().get(BASELINE);
            List<Fork> sampled = c.getValue().get("StacksSampled");
            if (sampled == null) {
                continue;
            }
            double[] ratios = new double[sampled.size()];
            for (int i = 0; i < ratios.length; i++) {
                ratios[i] = sampled.get(i).score() / base.get(i).score();
            }
            double m = mean(ratios);
            double h = ratios.length < 2 ? Double.NaN : halfWidth95(ratios);
            String verdict = Double.isNaN(h)
                    ? (m >= 0.98 ? "within (one round, no error bar)" : "OVER (one round, no error bar)")
                    : m - h >= 0.98 ? "within, resolved (the whole 95% interval is above 0.98)"
                    : m + h < 0.98 ? "OVER, resolved (the whole 95% interval is below 0.98)"
                    : m >= 0.98 ? "within on the mean, but the 95% interval reaches below 0.98: not resolved"
                    : "over on the mean, but the 95% interval reaches above 0.98: not resolved";
            md.append(String.format(Locale.ROOT, "- %s: %.3f ± %s: %s%n", c.getKey(), m,
                    Double.isNaN(h) ? "—" : String.format(Locale.ROOT, "%.3f", h), verdict));
        }
        md.append('\n');
        return md.toString();
    }

    private static String hookPathReport(Map<String, Map<String, List<Fork>>> results, List<String> variants,
                                         int rounds) {
        StringBuilder md = new StringBuilder();
        md.append("| Client (hook shape) | Leak stacks | ns/request without agent | ns/request with agent"
                + " | agent's cost, ns/request | ± (95%) | B/request with agent |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            List<Fork> base = c.getValue().get(BASELINE);
            double baseNs = mean(base, Fork::score);
            for (String variant : variants) {
                if (variant.equals(BASELINE)) {
                    continue;
                }
                List<Fork> forks = c.getValue().get(variant);
                double[] costs = new double[forks.size()];
                for (int i = 0; i < costs.length; i++) {
                    costs[i] = forks.get(i).score() - base.get(i).score();
                }
                md.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %,.0f | %,.0f | %s | %,.0f |%n", c.getKey(),
                        SETTINGS.get(variant), baseNs, mean(forks, Fork::score), mean(costs),
                        costs.length < 2 ? "—" : String.format(Locale.ROOT, "%,.0f", halfWidth95(costs)),
                        mean(forks, Fork::allocBytes)));
            }
        }
        md.append("\n\"Agent's cost\": with agent minus without, per round (paired), averaged; \"±\": the 95% confidence"
                + " half-width of those differences. Each fork's figure is the median of its iterations.\n\n");
        md.append("Per fork (ns/op; B/op), by round:\n\n");
        md.append("| Client | Variant | ").append(String.join(" | ", roundHeaders(rounds))).append(" |\n");
        md.append("|---|---|").append("---|".repeat(rounds)).append('\n');
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            for (String variant : variants) {
                md.append("| ").append(c.getKey()).append(" | ").append(variant).append(" |");
                for (Fork f : c.getValue().get(variant)) {
                    md.append(String.format(Locale.ROOT, " %,.1f; %,.0f |", f.score(), f.allocBytes()));
                }
                md.append('\n');
            }
        }
        md.append('\n');
        return md.toString();
    }

    private static List<String> roundHeaders(int rounds) {
        List<String> h = new ArrayList<>();
        for (int i = 1; i <= rounds; i++) {
            h.add("round " + i);
        }
        return h;
    }

    private static List<String> list(String option, List<String> all, String name) {
        if (option == null) {
            return all;
        }
        List<String> chosen = new ArrayList<>();
        for (String s : option.split(",")) {
            String t = s.trim();
            if (t.isEmpty()) {
                continue;
            }
            if (!all.contains(t)) {
                throw new IllegalArgumentException(name + ": unknown '" + t + "'; choose from " + all);
            }
            chosen.add(t);
        }
        if (chosen.isEmpty()) {
            throw new IllegalArgumentException(name + " is empty; choose from " + all);
        }
        return chosen;
    }

    private interface Field {
        double of(Fork f);
    }

    private static double mean(List<Fork> forks, Field field) {
        return mean(forks.stream().mapToDouble(field::of).toArray());
    }

    private static double mean(double[] xs) {
        return Arrays.stream(xs).average().orElse(Double.NaN);
    }

    /** Student's t 95% confidence half-width of the mean. */
    private static double halfWidth95(double[] xs) {
        int n = xs.length;
        double m = mean(xs);
        double ss = 0;
        for (double x : xs) {
            ss += (x - m) * (x - m);
        }
        double sd = Math.sqrt(ss / (n - 1));
        return T975[Math.min(n - 1, T975.length - 1)] * sd / Math.sqrt(n);
    }

    /** Two-sided 95% Student's t quantiles by degrees of freedom (index 0 unused); beyond 30, 1.96. */
    private static final double[] T975 = {Double.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
            2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
            2.060, 2.056, 2.052, 2.048, 2.045, 2.042, 1.960};

    private static String loadAverage() {
        return ProcessBench.loadAverage();
    }

    private static void progress(String line) {
        System.err.println("[leakbench] " + line);
    }
}

package io.connguard.bench;

import io.connguard.bench.jmh.ConnGuardAgentProfiler;
import io.connguard.bench.jmh.CpuPerOpProfiler;
import io.connguard.bench.jmh.RetryHookPathBenchmark;
import io.connguard.bench.jmh.RetryLoopBenchmark;
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
 * What the retry hooks cost per request when nothing is refused: {@link RetryLoopBenchmark} (the
 * whole keep-alive request) or, with {@code --hook-path}, {@link RetryHookPathBenchmark} (the hook
 * calls alone, no network), as one JMH fork per client and variant, in rounds, the order of the
 * variants rotated every round, as {@link LeakTrackingBench} does. Variants: no agent, the agent's
 * defaults (retries on), the agent with {@code CONNGUARD_RETRY_MAX_ATTEMPTS=1} (retries off). Each
 * figure is paired with the other variants' forks of the same round and client: ratios (loop) or
 * differences (hook path), averaged over the rounds, with the 95% confidence half-width of the
 * paired values (Student's t), so the fork-to-fork spread is in it.
 *
 * <p>Besides wall time, every fork reports the benchmark thread's CPU time per request
 * ({@link CpuPerOpProfiler}), which a machine shared with other work disturbs far less (time the
 * thread spends waiting for a CPU is not in it), and bytes allocated per request (JMH's {@code gc}).
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar io.connguard.bench.RetryBench
 *      [--hook-path] [--agent agent/target/connguard-agent.jar] [--java &lt;java or JDK home&gt;] [--rounds 3]
 *      [--clients urlconnection,httpclient,apache4,okhttp,apache5] [--variants WithoutAgent,Defaults,RetriesOff]
 *      [--warmup N] [--iterations N] [--iteration-ms 1000] [--log &lt;JMH output file&gt;]
 * </pre>
 */
public final class RetryBench {

    private static final Set<String> VALUE_OPTIONS = Set.of("--agent", "--java", "--rounds", "--clients", "--variants",
            "--warmup", "--iterations", "--iteration-ms", "--log");
    private static final Set<String> FLAG_OPTIONS = Set.of("--hook-path", "--help");

    private static final String BASELINE = "WithoutAgent";
    private static final String DEFAULTS = "Defaults";
    private static final String OFF = "RetriesOff";
    private static final List<String> ALL_VARIANTS = List.of(BASELINE, DEFAULTS, OFF);
    private static final List<String> ALL_CLIENTS = List.of("urlconnection", "httpclient", "apache4", "okhttp", "apache5");
    /** The loop's default: apache5 on request (a fifth client no longer fits in ten minutes on 2 CPUs). */
    private static final List<String> LOOP_CLIENTS = ALL_CLIENTS.subList(0, 4);
    private static final Map<String, String> SETTINGS = Map.of(
            BASELINE, "no agent",
            DEFAULTS, "agent, defaults (retries on)",
            OFF, "agent, `CONNGUARD_RETRY_MAX_ATTEMPTS=1`");

    private static final String CPU_PROCESS = "cpu.process";
    private static final String CPU_WORKER = "cpu.worker";
    private static final String ALLOC = "gc.alloc.rate.norm";

    private RetryBench() {
    }

    /** One fork's medians over its measurement iterations; score: ops/s (loop) or ns/op (hook path). */
    private record Fork(double score, double cpuProcessUs, double cpuWorkerUs, double allocBytes) {
    }

    private record Bench(Class<?> type, boolean hookPath, List<String> clients, int warmup, int iterations) {
    }

    private static final Bench LOOP = new Bench(RetryLoopBenchmark.class, false, LOOP_CLIENTS, 6, 4);
    private static final Bench HOOK_PATH = new Bench(RetryHookPathBenchmark.class, true, ALL_CLIENTS, 3, 5);

    public static void main(String[] argv) throws Exception {
        BenchArgs args;
        try {
            args = new BenchArgs(argv, VALUE_OPTIONS, FLAG_OPTIONS);
        } catch (IllegalArgumentException e) {
            System.err.println("RetryBench: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (args.flag("--help")) {
            System.out.println("java -cp connguard-test-apps.jar io.connguard.bench.RetryBench [--hook-path]"
                    + " [--agent <jar>] [--java <java or JDK home>] [--rounds N] [--clients "
                    + String.join(",", ALL_CLIENTS) + "] [--variants " + String.join(",", ALL_VARIANTS) + "]"
                    + " [--warmup N] [--iterations N] [--iteration-ms N] [--log file]");
            return;
        }
        Path agent = Paths.get(args.string("--agent", System.getProperty("connguard.agent.jar",
                "agent/target/connguard-agent.jar"))).toAbsolutePath().normalize();
        if (!Files.isRegularFile(agent)) {
            System.err.println("RetryBench: ConnGuard agent jar not found: " + agent + ". Build it with"
                    + " `mvn -B -q install -DskipTests` in the project root and run from there, or pass --agent <jar>.");
            System.exit(2);
        }
        Bench bench = args.flag("--hook-path") ? HOOK_PATH : LOOP;
        List<String> clients = list(args.string("--clients", null), bench.clients(), ALL_CLIENTS, "--clients");
        List<String> variants = new ArrayList<>(list(args.string("--variants", null), ALL_VARIANTS, ALL_VARIANTS,
                "--variants"));
        if (!variants.contains(BASELINE)) {
            variants.add(0, BASELINE); // every ratio needs it
        }
        int rounds = Math.max(1, args.integer("--rounds", 3));
        int warmup = args.integer("--warmup", bench.warmup());
        int iterations = Math.max(1, args.integer("--iterations", bench.iterations()));
        int iterationMs = Math.max(100, args.integer("--iteration-ms", 1000));
        String java = args.string("--java", null);
        if (java != null && Files.isDirectory(Paths.get(java))) {
            java = Paths.get(java, "bin", "java").toString();
        }
        Path log = args.string("--log", null) != null ? Paths.get(args.string("--log", null))
                : Files.createTempFile("connguard-retrybench-", ".log");

        String loadBefore = ProcessBench.loadAverage();
        long started = System.nanoTime();
        progress(bench.type().getSimpleName() + ", agent " + agent + "; " + rounds + " round(s) x " + clients.size()
                + " client(s) x " + variants.size() + " variants, one fork each: " + warmup + " x " + iterationMs
                + " ms warm-up, " + iterations + " x " + iterationMs + " ms measured; JMH output in " + log);

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
                            Fork f = runFork(bench, client, variant, agent, java, warmup, iterations, iterationMs,
                                    jmhOut);
                            results.computeIfAbsent(client, c -> new LinkedHashMap<>())
                                    .computeIfAbsent(variant, v -> new ArrayList<>()).add(f);
                            progress(bench.hookPath()
                                    ? String.format(Locale.ROOT, "round %d %-13s %-12s %,9.1f ns/op  thread CPU"
                                                    + " %,9.1f ns/op  %,6.0f B/op", round + 1, client, variant,
                                            f.score(), f.cpuWorkerUs() * 1e3, f.allocBytes())
                                    : String.format(Locale.ROOT, "round %d %-13s %-12s %,9.0f ops/s  process CPU"
                                                    + " %6.2f µs/op  thread CPU %6.2f µs/op  %,6.0f B/op", round + 1,
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
        StringBuilder md = new StringBuilder();
        md.append("\n#### RetryBench").append(bench.hookPath() ? " --hook-path" : "").append(": JDK ")
                .append(System.getProperty("java.version"))
                .append(java == null ? "" : " (host; forks: " + java + ")").append("\n\n");
        md.append("- Command: `java -cp ").append(System.getProperty("java.class.path")).append(' ')
                .append(RetryBench.class.getName()).append(argv.length == 0 ? "" : " " + String.join(" ", argv))
                .append("`\n");
        md.append("- Agent: `").append(agent).append("`\n");
        md.append(String.format(Locale.ROOT, "- %s: %d round(s); per client and variant one JMH fork per round, %d x %d"
                        + " ms warm-up, %d x %d ms measured; %.1f minutes in all%n", bench.type().getSimpleName(), rounds,
                warmup, iterationMs, iterations, iterationMs, minutes));
        md.append("- Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs");
        if (!loadBefore.isEmpty()) {
            md.append("; load average before ").append(loadBefore).append(", after ").append(ProcessBench.loadAverage());
        }
        md.append("\n\n");
        md.append(bench.hookPath() ? hookPathReport(results, variants, rounds) : loopReport(results, variants, rounds));
        System.out.print(md);
    }

    private static Fork runFork(Bench bench, String client, String variant, Path agent, String java, int warmup,
                                int iterations, int iterationMs, PrintStream jmhOut) throws RunnerException {
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
                .addProfiler(CpuPerOpProfiler.class)
                .shouldFailOnError(true);
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

    /** The median over a fork's iterations: a neighbour's burst slows one or two by tens of percent. */
    private static double median(List<IterationResult> iterations, ToDoubleFunction<IterationResult> value) {
        double[] xs = iterations.stream().mapToDouble(value).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (xs.length == 0) {
            return Double.NaN;
        }
        return xs.length % 2 == 1 ? xs[xs.length / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
    }

    private interface Field {
        double of(Fork f);
    }

    /** Per round, {@code f(variant fork, reference fork)}; null if either variant did not run. */
    private static double[] paired(Map<String, List<Fork>> byVariant, String variant, String reference,
                                   java.util.function.DoubleBinaryOperator f, Field field) {
        List<Fork> a = byVariant.get(variant);
        List<Fork> b = byVariant.get(reference);
        if (a == null || b == null) {
            return null;
        }
        double[] out = new double[Math.min(a.size(), b.size())];
        for (int i = 0; i < out.length; i++) {
            out[i] = f.applyAsDouble(field.of(a.get(i)), field.of(b.get(i)));
        }
        return out;
    }

    private static String meanPm(double[] xs, String format) {
        if (xs == null) {
            return "—";
        }
        String m = String.format(Locale.ROOT, format, mean(xs));
        return xs.length < 2 ? m : m + " ± " + String.format(Locale.ROOT, format.replace("+", ""), halfWidth95(xs));
    }

    private static String loopReport(Map<String, Map<String, List<Fork>>> results, List<String> variants, int rounds) {
        StringBuilder md = new StringBuilder();
        md.append("| Client | Variant | req/s | ratio to no agent | ratio to retries off | thread CPU µs/request"
                + " | process CPU µs/request | B/request |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            Map<String, List<Fork>> v = c.getValue();
            for (String variant : variants) {
                List<Fork> forks = v.get(variant);
                double[] toBase = variant.equals(BASELINE) ? null
                        : paired(v, variant, BASELINE, (x, y) -> x / y, Fork::score);
                double[] toOff = variant.equals(DEFAULTS) ? paired(v, DEFAULTS, OFF, (x, y) -> x / y, Fork::score) : null;
                md.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %s | %s | %.2f | %.2f | %,.0f |%n", c.getKey(),
                        SETTINGS.get(variant), mean(forks, Fork::score), meanPm(toBase, "%.3f"), meanPm(toOff, "%.3f"),
                        mean(forks, Fork::cpuWorkerUs), mean(forks, Fork::cpuProcessUs), mean(forks, Fork::allocBytes)));
            }
        }
        md.append("\nRatios are throughput with / without, the mean of the per-round paired ratios, ± the 95% confidence"
                + " half-width of those ratios (Student's t). \"Ratio to retries off\" isolates the retry hooks from the"
                + " agent's other per-request work. Thread CPU: the benchmark thread alone; process CPU: the whole fork,"
                + " including the in-process server.\n\n");
        md.append("Retry hooks, defaults against retries off, per request (paired per round):\n\n");
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            Map<String, List<Fork>> v = c.getValue();
            double[] wall = paired(v, DEFAULTS, OFF, (x, y) -> (1e6 / x - 1e6 / y) * 1e3, Fork::score);
            double[] cpu = paired(v, DEFAULTS, OFF, (x, y) -> (x - y) * 1e3, Fork::cpuWorkerUs);
            double[] bytes = paired(v, DEFAULTS, OFF, (x, y) -> x - y, Fork::allocBytes);
            md.append(String.format(Locale.ROOT, "- %s: wall %s ns, thread CPU %s ns, %s B%n", c.getKey(),
                    meanPm(wall, "%+,.0f"), meanPm(cpu, "%+,.0f"), meanPm(bytes, "%+,.0f")));
        }
        md.append("\nAgainst the budget (keep-alive throughput with the agent within 2% of without), agent defaults:\n\n");
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            double[] ratios = paired(c.getValue(), DEFAULTS, BASELINE, (x, y) -> x / y, Fork::score);
            if (ratios == null) {
                continue;
            }
            double m = mean(ratios);
            double h = ratios.length < 2 ? Double.NaN : halfWidth95(ratios);
            String verdict = Double.isNaN(h)
                    ? (m >= 0.98 ? "within (one round, no error bar)" : "OVER (one round, no error bar)")
                    : m - h >= 0.98 ? "within, resolved (the whole 95% interval is above 0.98)"
                    : m + h < 0.98 ? "OVER, resolved (the whole 95% interval is below 0.98)"
                    : m >= 0.98 ? "within on the mean, but the 95% interval reaches below 0.98: not resolved"
                    : "over on the mean, but the 95% interval reaches above 0.98: not resolved";
            md.append(String.format(Locale.ROOT, "- %s: %s: %s%n", c.getKey(), meanPm(ratios, "%.3f"), verdict));
        }
        md.append('\n');
        md.append(perFork(results, variants, rounds, false));
        return md.toString();
    }

    private static String hookPathReport(Map<String, Map<String, List<Fork>>> results, List<String> variants,
                                         int rounds) {
        StringBuilder md = new StringBuilder();
        md.append("| Client | ns/request: no agent | retries off | defaults | retries' cost (defaults − no agent)"
                + " | defaults − retries off | thread CPU: defaults − no agent | B/request: no agent → defaults |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            Map<String, List<Fork>> v = c.getValue();
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s → %s |%n", c.getKey(),
                    fmt(v.get(BASELINE), Fork::score), fmt(v.get(OFF), Fork::score), fmt(v.get(DEFAULTS), Fork::score),
                    meanPm(paired(v, DEFAULTS, BASELINE, (x, y) -> x - y, Fork::score), "%,.0f"),
                    meanPm(paired(v, DEFAULTS, OFF, (x, y) -> x - y, Fork::score), "%,.0f"),
                    meanPm(paired(v, DEFAULTS, BASELINE, (x, y) -> (x - y) * 1e3, Fork::cpuWorkerUs), "%,.0f"),
                    fmt(v.get(BASELINE), Fork::allocBytes), fmt(v.get(DEFAULTS), Fork::allocBytes)));
        }
        md.append("\nns/request: wall time per request, the mean over rounds of each fork's median iteration. Costs:"
                + " paired per round (same round and client), averaged, ± the 95% confidence half-width of the"
                + " differences. Thread CPU: the benchmark thread's CPU time per request, which time spent waiting for"
                + " a CPU on a busy machine does not inflate.\n\n");
        md.append(perFork(results, variants, rounds, true));
        return md.toString();
    }

    private static String fmt(List<Fork> forks, Field field) {
        return forks == null ? "—" : String.format(Locale.ROOT, "%,.0f", mean(forks, field));
    }

    private static String perFork(Map<String, Map<String, List<Fork>>> results, List<String> variants, int rounds,
                                  boolean hookPath) {
        StringBuilder md = new StringBuilder();
        md.append(hookPath ? "Per fork (ns/op; thread CPU ns/op; B/op), by round:\n\n"
                : "Per fork (req/s; thread CPU µs/op; process CPU µs/op; B/op), by round:\n\n");
        md.append("| Client | Variant |");
        for (int i = 1; i <= rounds; i++) {
            md.append(" round ").append(i).append(" |");
        }
        md.append("\n|---|---|").append("---|".repeat(rounds)).append('\n');
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            for (String variant : variants) {
                md.append("| ").append(c.getKey()).append(" | ").append(variant).append(" |");
                for (Fork f : c.getValue().get(variant)) {
                    md.append(hookPath
                            ? String.format(Locale.ROOT, " %,.1f; %,.1f; %,.0f |", f.score(), f.cpuWorkerUs() * 1e3,
                                    f.allocBytes())
                            : String.format(Locale.ROOT, " %,.0f; %.2f; %.2f; %,.0f |", f.score(), f.cpuWorkerUs(),
                                    f.cpuProcessUs(), f.allocBytes()));
                }
                md.append('\n');
            }
        }
        md.append('\n');
        return md.toString();
    }

    private static List<String> list(String option, List<String> dflt, List<String> all, String name) {
        if (option == null) {
            return dflt;
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

    private static double mean(List<Fork> forks, Field field) {
        return forks == null ? Double.NaN : mean(forks.stream().mapToDouble(field::of).toArray());
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
        return T975[Math.min(n - 1, T975.length - 1)] * Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
    }

    /** Two-sided 95% Student's t quantiles by degrees of freedom (index 0 unused); beyond 30, 1.96. */
    private static final double[] T975 = {Double.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
            2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
            2.060, 2.056, 2.052, 2.048, 2.045, 2.042, 1.960};

    private static void progress(String line) {
        System.err.println("[retrybench] " + line);
    }
}

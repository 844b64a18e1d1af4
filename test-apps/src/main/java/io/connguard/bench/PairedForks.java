package io.connguard.bench;

import io.connguard.bench.jmh.ConnGuardAgentProfiler;
import io.connguard.bench.jmh.CpuPerOpProfiler;
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
import java.util.function.Consumer;
import java.util.function.DoubleBinaryOperator;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.regex.Pattern;

/**
 * What {@link LeakTrackingBench} and {@link RetryBench} share: one JMH fork per client and variant
 * (with {@link ConnGuardAgentProfiler}, JMH's {@code gc} profiler and, on request,
 * {@link CpuPerOpProfiler}), in rounds, the order of the variants rotated every round so that a
 * slow phase of a noisy machine hits every variant alike; each fork reduced to the medians of its
 * measurement iterations; forks paired per round and client, averaged, with the 95% confidence
 * half-width of the paired values (Student's t); and the pieces of the markdown report that do not
 * depend on what is measured.
 */
final class PairedForks {

    /** The variant every other one is paired against. */
    static final String BASELINE = "WithoutAgent";

    private static final String CPU_PROCESS = "cpu.process";
    private static final String CPU_WORKER = "cpu.worker";
    private static final String ALLOC = "gc.alloc.rate.norm";

    private PairedForks() {
    }

    /**
     * One fork's medians over its measurement iterations. {@code score}: the benchmark's primary
     * score (ops/s for a keep-alive loop, ns/op for a hook path); NaN where a profiler did not run.
     */
    record Fork(double score, double cpuProcessUs, double cpuWorkerUs, double allocBytes) {
    }

    interface Field {
        double of(Fork f);
    }

    /**
     * What one run forks: {@code type}'s {@code <variant>.request} per client and variant, with
     * {@code params} as extra JMH parameters and {@link CpuPerOpProfiler} if {@code cpuPerOp}.
     */
    record Plan(Class<?> type, List<String> clients, List<String> variants, int rounds, int warmup, int iterations,
                int iterationMs, Path agent, String java, Path log, boolean cpuPerOp, Map<String, String> params) {
    }

    /** Each fork's medians by client, variant and round ({@code get(client).get(variant).get(round)}). */
    record Results(Map<String, Map<String, List<Fork>>> byClient, String loadBefore, double minutes) {
    }

    /** Told of each fork as it ends; {@code round} counts from 1. */
    interface ForkDone {
        void fork(int round, String client, String variant, Fork fork);
    }

    /** {@code --agent}, or the system property {@code connguard.agent.jar}, or the build's; exits 2 if missing. */
    static Path agent(BenchArgs args, String runner) {
        Path agent = Paths.get(args.string("--agent", System.getProperty("connguard.agent.jar",
                "agent/target/connguard-agent.jar"))).toAbsolutePath().normalize();
        if (!Files.isRegularFile(agent)) {
            System.err.println(runner + ": ConnGuard agent jar not found: " + agent + ". Build it with"
                    + " `mvn -B -q install -DskipTests` in the project root and run from there, or pass --agent <jar>.");
            System.exit(2);
        }
        return agent;
    }

    /** {@code --java}: a java executable or a JDK home; null for the forks to use this JVM's. */
    static String java(BenchArgs args) {
        String java = args.string("--java", null);
        if (java != null && Files.isDirectory(Paths.get(java))) {
            java = Paths.get(java, "bin", "java").toString();
        }
        return java;
    }

    /** {@code --log}, or a new temporary file. */
    static Path log(BenchArgs args, String tempPrefix) throws IOException {
        return args.string("--log", null) != null ? Paths.get(args.string("--log", null))
                : Files.createTempFile(tempPrefix, ".log");
    }

    /** A comma-separated choice from {@code all}; {@code dflt} if the option is not given. */
    static List<String> list(String option, List<String> dflt, List<String> all, String name) {
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

    /** {@code variants} with {@link #BASELINE} first if it was not chosen: every pairing needs it. */
    static List<String> withBaseline(List<String> variants) {
        if (variants.contains(BASELINE)) {
            return variants;
        }
        List<String> all = new ArrayList<>(variants);
        all.add(0, BASELINE);
        return all;
    }

    /**
     * Runs the plan's forks, round by round, each client's variants back to back in an order rotated
     * every round. What the forks print goes to the plan's log, not to standard output.
     */
    static Results run(Plan plan, Consumer<String> progress, ForkDone done) throws IOException, RunnerException {
        String loadBefore = ProcessBench.loadAverage();
        long started = System.nanoTime();
        progress.accept(plan.type().getSimpleName() + ", agent " + plan.agent() + "; " + plan.rounds() + " round(s) x "
                + plan.clients().size() + " client(s) x " + plan.variants().size() + " variants, one fork each: "
                + plan.warmup() + " x " + plan.iterationMs() + " ms warm-up, " + plan.iterations() + " x "
                + plan.iterationMs() + " ms measured; JMH output in " + plan.log());

        Map<String, Map<String, List<Fork>>> results = new LinkedHashMap<>();
        try (PrintStream jmhOut = new PrintStream(new FileOutputStream(plan.log().toFile(), true), true,
                StandardCharsets.UTF_8)) {
            PrintStream stdout = System.out;
            System.setOut(jmhOut); // what the forks print (their checks) goes to the log, not into the report
            try {
                for (int round = 0; round < plan.rounds(); round++) {
                    for (String client : plan.clients()) {
                        List<String> order = new ArrayList<>(plan.variants());
                        Collections.rotate(order, round);
                        for (String variant : order) {
                            Fork f = runFork(plan, client, variant, jmhOut);
                            results.computeIfAbsent(client, c -> new LinkedHashMap<>())
                                    .computeIfAbsent(variant, v -> new ArrayList<>()).add(f);
                            done.fork(round + 1, client, variant, f);
                        }
                    }
                }
            } finally {
                System.setOut(stdout);
            }
        }
        return new Results(results, loadBefore, (System.nanoTime() - started) / 60e9);
    }

    private static Fork runFork(Plan plan, String client, String variant, PrintStream jmhOut)
            throws RunnerException {
        String benchmark = plan.type().getName() + "." + variant + ".request";
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include("^" + Pattern.quote(benchmark) + "$")
                .param("client", client)
                .forks(1)
                .warmupIterations(plan.warmup())
                .warmupTime(TimeValue.milliseconds(plan.iterationMs()))
                .measurementIterations(plan.iterations())
                .measurementTime(TimeValue.milliseconds(plan.iterationMs()))
                .addProfiler(ConnGuardAgentProfiler.class, "jar=" + plan.agent())
                .addProfiler(GCProfiler.class)
                .shouldFailOnError(true);
        if (plan.cpuPerOp()) {
            options.addProfiler(CpuPerOpProfiler.class);
        }
        plan.params().forEach(options::param);
        if (plan.java() != null) {
            options.jvm(plan.java());
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

    /** The report's heading and its list of what ran, where, and how long it took. */
    static String header(Class<?> runner, boolean hookPath, String[] argv, Plan plan, Results results) {
        StringBuilder md = new StringBuilder();
        md.append("\n#### ").append(runner.getSimpleName()).append(hookPath ? " --hook-path" : "").append(": JDK ")
                .append(System.getProperty("java.version"))
                .append(plan.java() == null ? "" : " (host; forks: " + plan.java() + ")").append("\n\n");
        md.append("- Command: `java -cp ").append(System.getProperty("java.class.path")).append(' ')
                .append(runner.getName()).append(argv.length == 0 ? "" : " " + String.join(" ", argv))
                .append("`\n");
        md.append("- Agent: `").append(plan.agent()).append("`\n");
        md.append(String.format(Locale.ROOT, "- %s: %d round(s); per client and variant one JMH fork per round, %d x %d"
                        + " ms warm-up, %d x %d ms measured; %.1f minutes in all%n", plan.type().getSimpleName(),
                plan.rounds(), plan.warmup(), plan.iterationMs(), plan.iterations(), plan.iterationMs(),
                results.minutes()));
        md.append("- Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs");
        if (!results.loadBefore().isEmpty()) {
            md.append("; load average before ").append(results.loadBefore()).append(", after ")
                    .append(ProcessBench.loadAverage());
        }
        md.append("\n\n");
        return md.toString();
    }

    /** The table of every fork, a row per client and variant, a column per round, each cell {@code cell(fork)}. */
    static String perFork(Map<String, Map<String, List<Fork>>> results, List<String> variants, int rounds,
                          String caption, Function<Fork, String> cell) {
        StringBuilder md = new StringBuilder();
        md.append(caption).append("\n\n");
        md.append("| Client | Variant |");
        for (int i = 1; i <= rounds; i++) {
            md.append(" round ").append(i).append(" |");
        }
        md.append("\n|---|---|").append("---|".repeat(rounds)).append('\n');
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            for (String variant : variants) {
                md.append("| ").append(c.getKey()).append(" | ").append(variant).append(" |");
                for (Fork f : c.getValue().get(variant)) {
                    md.append(cell.apply(f));
                }
                md.append('\n');
            }
        }
        md.append('\n');
        return md.toString();
    }

    /** Per round, {@code f(variant fork, reference fork)}; null if either variant did not run. */
    static double[] paired(Map<String, List<Fork>> byVariant, String variant, String reference,
                           DoubleBinaryOperator f, Field field) {
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

    /**
     * Where a throughput ratio (with agent / without) of mean {@code m} and 95% half-width {@code h}
     * (NaN: one round) stands against the budget of 0.98.
     */
    static String budgetVerdict(double m, double h) {
        return Double.isNaN(h)
                ? (m >= 0.98 ? "within (one round, no error bar)" : "OVER (one round, no error bar)")
                : m - h >= 0.98 ? "within, resolved (the whole 95% interval is above 0.98)"
                : m + h < 0.98 ? "OVER, resolved (the whole 95% interval is below 0.98)"
                : m >= 0.98 ? "within on the mean, but the 95% interval reaches below 0.98: not resolved"
                : "over on the mean, but the 95% interval reaches above 0.98: not resolved";
    }

    /** The mean of {@code field} over the forks; NaN if there are none. */
    static double mean(List<Fork> forks, Field field) {
        return forks == null ? Double.NaN : mean(forks.stream().mapToDouble(field::of).toArray());
    }

    static double mean(double[] xs) {
        return Arrays.stream(xs).average().orElse(Double.NaN);
    }

    /** Student's t 95% confidence half-width of the mean. */
    static double halfWidth95(double[] xs) {
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
}

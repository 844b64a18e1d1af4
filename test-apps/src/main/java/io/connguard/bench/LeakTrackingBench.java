package io.connguard.bench;

import io.connguard.bench.PairedForks.Fork;
import io.connguard.bench.PairedForks.Plan;
import io.connguard.bench.PairedForks.Results;
import io.connguard.bench.jmh.CpuPerOpProfiler;
import io.connguard.bench.jmh.LeakHookPathBenchmark;
import io.connguard.bench.jmh.LeakTrackingBenchmark;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static io.connguard.bench.PairedForks.BASELINE;
import static io.connguard.bench.PairedForks.halfWidth95;
import static io.connguard.bench.PairedForks.mean;
import static io.connguard.bench.PairedForks.paired;

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

    private LeakTrackingBench() {
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
        Path agent = PairedForks.agent(args, "LeakTrackingBench");
        Bench bench = args.flag("--hook-path") ? HOOK_PATH : LOOP;
        List<String> clients = PairedForks.list(args.string("--clients", null), bench.clients(), bench.clients(),
                "--clients");
        List<String> variants = PairedForks.withBaseline(PairedForks.list(args.string("--variants", null),
                bench.variants(), ALL_VARIANTS, "--variants"));
        int rounds = Math.max(1, args.integer("--rounds", 3));
        int warmup = args.integer("--warmup", bench.warmup());
        int iterations = Math.max(1, args.integer("--iterations", bench.iterations()));
        String depth = args.string("--depth", null);
        if (depth != null && !bench.hookPath()) {
            throw new IllegalArgumentException("--depth is for --hook-path only");
        }
        int iterationMs = Math.max(100, args.integer("--iteration-ms", 1000));
        String java = PairedForks.java(args);
        Path log = PairedForks.log(args, "connguard-leakbench-");

        // CpuPerOpProfiler on the keep-alive loop only; --depth is the hook path's parameter
        Plan plan = new Plan(bench.type(), clients, variants, rounds, warmup, iterations, iterationMs, agent, java, log,
                !bench.hookPath(), depth == null ? Map.of() : Map.of("depth", depth));
        Results results = PairedForks.run(plan, LeakTrackingBench::progress, (round, client, variant, f) ->
                progress(bench.hookPath()
                        ? String.format(Locale.ROOT, "round %d %-13s %-13s %,9.1f ns/op  %,6.0f B/op",
                                round, client, variant, f.score(), f.allocBytes())
                        : String.format(Locale.ROOT, "round %d %-13s %-13s %,9.0f ops/s  process CPU"
                                        + " %6.2f µs/op  worker CPU %6.2f µs/op  %,6.0f B/op", round,
                                client, variant, f.score(), f.cpuProcessUs(), f.cpuWorkerUs(),
                                f.allocBytes())));
        System.out.print(PairedForks.header(LeakTrackingBench.class, bench.hookPath(), argv, plan, results)
                + (bench.hookPath() ? hookPathReport(results.byClient(), variants, rounds)
                : loopReport(results.byClient(), variants, rounds)));
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
                double[] ratios = paired(c.getValue(), variant, BASELINE, (x, y) -> x / y, Fork::score);
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

        md.append(PairedForks.perFork(results, variants, rounds,
                "Per fork (ops/s; process CPU µs/op; benchmark-thread CPU µs/op; B/op), by round:",
                f -> String.format(Locale.ROOT, " %,.0f; %.2f; %.2f; %,.0f |", f.score(), f.cpuProcessUs(),
                        f.cpuWorkerUs(), f.allocBytes())));

        md.append("Against the budget (keep-alive throughput with the agent within 2% of without), default stacks:\n\n");
        for (Map.Entry<String, Map<String, List<Fork>>> c : results.entrySet()) {
            double[] ratios = paired(c.getValue(), "StacksSampled", BASELINE, (x, y) -> x / y, Fork::score);
            if (ratios == null) {
                continue;
            }
            double m = mean(ratios);
            double h = ratios.length < 2 ? Double.NaN : halfWidth95(ratios);
            md.append(String.format(Locale.ROOT, "- %s: %.3f ± %s: %s%n", c.getKey(), m,
                    Double.isNaN(h) ? "—" : String.format(Locale.ROOT, "%.3f", h), PairedForks.budgetVerdict(m, h)));
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
            double baseNs = mean(c.getValue().get(BASELINE), Fork::score);
            for (String variant : variants) {
                if (variant.equals(BASELINE)) {
                    continue;
                }
                List<Fork> forks = c.getValue().get(variant);
                double[] costs = paired(c.getValue(), variant, BASELINE, (x, y) -> x - y, Fork::score);
                md.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %,.0f | %,.0f | %s | %,.0f |%n", c.getKey(),
                        SETTINGS.get(variant), baseNs, mean(forks, Fork::score), mean(costs),
                        costs.length < 2 ? "—" : String.format(Locale.ROOT, "%,.0f", halfWidth95(costs)),
                        mean(forks, Fork::allocBytes)));
            }
        }
        md.append("\n\"Agent's cost\": with agent minus without, per round (paired), averaged; \"±\": the 95% confidence"
                + " half-width of those differences. Each fork's figure is the median of its iterations.\n\n");
        md.append(PairedForks.perFork(results, variants, rounds, "Per fork (ns/op; B/op), by round:",
                f -> String.format(Locale.ROOT, " %,.1f; %,.0f |", f.score(), f.allocBytes())));
        return md.toString();
    }

    private static void progress(String line) {
        System.err.println("[leakbench] " + line);
    }
}

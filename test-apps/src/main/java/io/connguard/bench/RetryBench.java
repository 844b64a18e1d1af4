package io.connguard.bench;

import io.connguard.bench.PairedForks.Field;
import io.connguard.bench.PairedForks.Fork;
import io.connguard.bench.PairedForks.Plan;
import io.connguard.bench.PairedForks.Results;
import io.connguard.bench.jmh.CpuPerOpProfiler;
import io.connguard.bench.jmh.RetryHookPathBenchmark;
import io.connguard.bench.jmh.RetryLoopBenchmark;

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

    private RetryBench() {
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
        Path agent = PairedForks.agent(args, "RetryBench");
        Bench bench = args.flag("--hook-path") ? HOOK_PATH : LOOP;
        List<String> clients = PairedForks.list(args.string("--clients", null), bench.clients(), ALL_CLIENTS,
                "--clients");
        List<String> variants = PairedForks.withBaseline(PairedForks.list(args.string("--variants", null),
                ALL_VARIANTS, ALL_VARIANTS, "--variants"));
        int rounds = Math.max(1, args.integer("--rounds", 3));
        int warmup = args.integer("--warmup", bench.warmup());
        int iterations = Math.max(1, args.integer("--iterations", bench.iterations()));
        int iterationMs = Math.max(100, args.integer("--iteration-ms", 1000));
        String java = PairedForks.java(args);
        Path log = PairedForks.log(args, "connguard-retrybench-");

        Plan plan = new Plan(bench.type(), clients, variants, rounds, warmup, iterations, iterationMs, agent, java, log,
                true, Map.of());
        Results results = PairedForks.run(plan, RetryBench::progress, (round, client, variant, f) ->
                progress(bench.hookPath()
                        ? String.format(Locale.ROOT, "round %d %-13s %-12s %,9.1f ns/op  thread CPU"
                                        + " %,9.1f ns/op  %,6.0f B/op", round, client, variant,
                                f.score(), f.cpuWorkerUs() * 1e3, f.allocBytes())
                        : String.format(Locale.ROOT, "round %d %-13s %-12s %,9.0f ops/s  process CPU"
                                        + " %6.2f µs/op  thread CPU %6.2f µs/op  %,6.0f B/op", round,
                                client, variant, f.score(), f.cpuProcessUs(), f.cpuWorkerUs(),
                                f.allocBytes())));
        System.out.print(PairedForks.header(RetryBench.class, bench.hookPath(), argv, plan, results)
                + (bench.hookPath() ? hookPathReport(results.byClient(), variants, rounds)
                : loopReport(results.byClient(), variants, rounds)));
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
            double h = ratios.length < 2 ? Double.NaN : halfWidth95(ratios);
            md.append(String.format(Locale.ROOT, "- %s: %s: %s%n", c.getKey(), meanPm(ratios, "%.3f"),
                    PairedForks.budgetVerdict(mean(ratios), h)));
        }
        md.append('\n');
        md.append(PairedForks.perFork(results, variants, rounds,
                "Per fork (req/s; thread CPU µs/op; process CPU µs/op; B/op), by round:",
                f -> String.format(Locale.ROOT, " %,.0f; %.2f; %.2f; %,.0f |", f.score(), f.cpuWorkerUs(),
                        f.cpuProcessUs(), f.allocBytes())));
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
        md.append(PairedForks.perFork(results, variants, rounds, "Per fork (ns/op; thread CPU ns/op; B/op), by round:",
                f -> String.format(Locale.ROOT, " %,.1f; %,.1f; %,.0f |", f.score(), f.cpuWorkerUs() * 1e3,
                        f.allocBytes())));
        return md.toString();
    }

    private static String fmt(List<Fork> forks, Field field) {
        return forks == null ? "—" : String.format(Locale.ROOT, "%,.0f", mean(forks, field));
    }

    private static void progress(String line) {
        System.err.println("[retrybench] " + line);
    }
}

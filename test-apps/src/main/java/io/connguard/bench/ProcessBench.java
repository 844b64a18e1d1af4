package io.connguard.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Whole-process benchmark: JVM start-up, a loopback connect+close loop and a keep-alive HTTP loop,
 * each in separate child JVMs, for three variants measured in the same invocation and interleaved:
 * without the agent, with the agent (enabled, per-host limit 1000, never reached) and with the
 * agent attached but {@code CONNGUARD_ENABLED=false}. Prints Markdown tables with the ratios.
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar io.connguard.bench.ProcessBench
 *      [--java &lt;java executable or JDK home&gt;] [--agent &lt;connguard-agent.jar&gt;] [--quick]
 *      [--startup-runs 20] [--rounds 3] [--connect-iterations 20000] [--connect-warmup 5000]
 *      [--requests 20000] [--request-warmup 5000] [--timeout-seconds 120] [--list-jdks]
 * </pre>
 *
 * Every child is started by this process, listens and connects on 127.0.0.1 only, has a time limit
 * (destroyed by PID, with its descendants, when it is exceeded) and is destroyed on exit.
 */
public final class ProcessBench {

    private static final Set<String> VALUE_OPTIONS = Set.of("--java", "--agent", "--startup-runs", "--rounds",
            "--connect-iterations", "--connect-warmup", "--requests", "--request-warmup", "--timeout-seconds");
    private static final Set<String> FLAG_OPTIONS = Set.of("--quick", "--list-jdks", "--help");
    /** Environment that would change every child JVM's options behind our back. */
    private static final List<String> JVM_OPTION_VARIABLES = List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS",
            "_JAVA_OPTIONS");
    private static final Pattern AGENT_STARTED = Pattern.compile("connguard: started .* in (\\d+) ms");
    private static final String CDS_WARNING = "Sharing is only supported for boot loader classes";

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    private final String java;
    private final Path agentJar;
    private final String classPath;
    private final int timeoutSeconds;
    private final Map<String, String> baseEnv;
    private final List<String> removedEnv = new ArrayList<>();
    private final Path tmp;

    /** The three variants, in the order of the tables; the first is the baseline. */
    private final List<Variant> variants;
    /** Start-up only: -javaagent with a premain that does nothing, the floor under any agent. */
    private final Variant noopAgent;

    /** One way to start the child JVM: with {@code -javaagent:<agentJar>} unless it is null, and extra environment. */
    private record Variant(String name, Path agentJar, Map<String, String> env) {
    }

    /** launchedEpochMs: the wall clock just before the child was started, to compare with what it prints. */
    private record Run(long wallNanos, long launchedEpochMs, String stdout, String stderr) {
    }

    private ProcessBench(String java, Path agentJar, int timeoutSeconds) throws IOException {
        this.java = java;
        this.agentJar = agentJar;
        this.timeoutSeconds = timeoutSeconds;
        this.classPath = System.getProperty("java.class.path");
        Map<String, String> env = new LinkedHashMap<>(System.getenv());
        for (String k : new ArrayList<>(env.keySet())) {
            if (k.startsWith("CONNGUARD_") || JVM_OPTION_VARIABLES.contains(k)) {
                env.remove(k);
                removedEnv.add(k);
            }
        }
        this.baseEnv = env;
        this.tmp = Files.createTempDirectory("connguard-processbench-");
        this.variants = List.of(
                new Variant("without agent", null, Map.of()),
                new Variant("with agent", agentJar, Map.of("CONNGUARD_MAX_PER_HOST", "1000")),
                new Variant("agent, CONNGUARD_ENABLED=false", agentJar, Map.of("CONNGUARD_ENABLED", "false")));
        this.noopAgent = new Variant("empty agent (JVM's own cost of -javaagent)", writeNoopAgentJar(tmp), Map.of());
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs args;
        try {
            args = new BenchArgs(argv, VALUE_OPTIONS, FLAG_OPTIONS);
        } catch (IllegalArgumentException e) {
            System.err.println("ProcessBench: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (args.flag("--help")) {
            System.out.println("java -cp connguard-test-apps.jar io.connguard.bench.ProcessBench [--java <java or JDK home>]"
                    + " [--agent <jar>] [--quick] [--startup-runs N] [--rounds N] [--connect-iterations N]"
                    + " [--connect-warmup N] [--requests N] [--request-warmup N] [--timeout-seconds N] [--list-jdks]");
            return;
        }
        if (args.flag("--list-jdks")) {
            listJdks();
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(ProcessBench::destroyAll, "processbench-cleanup"));

        boolean quick = args.flag("--quick");
        String java = resolveJava(args.string("--java", null));
        Path agent = resolveAgent(args.string("--agent", null));
        int startupRuns = args.integer("--startup-runs", quick ? 5 : 20);
        int rounds = Math.max(1, args.integer("--rounds", quick ? 1 : 3));
        int connectIterations = args.integer("--connect-iterations", quick ? 5_000 : 20_000);
        int connectWarmup = args.integer("--connect-warmup", quick ? 1_000 : 5_000);
        int requests = args.integer("--requests", quick ? 5_000 : 20_000);
        int requestWarmup = args.integer("--request-warmup", quick ? 1_000 : 5_000);
        int timeout = Math.max(5, args.integer("--timeout-seconds", 120));

        ProcessBench bench = new ProcessBench(java, agent, timeout);
        try {
            bench.run(startupRuns, rounds, connectIterations, connectWarmup, requests, requestWarmup, argv);
        } finally {
            destroyAll();
            bench.deleteTmp();
        }
    }

    private void run(int startupRuns, int rounds, int connectIterations, int connectWarmup, int requests,
                     int requestWarmup, String[] argv) throws Exception {
        StringBuilder md = new StringBuilder();
        String loadBefore = loadAverage();
        progress("java: " + java + ", agent: " + agentJar);
        if (!removedEnv.isEmpty()) {
            progress("removed from the children's environment: " + removedEnv);
        }

        // The JDK, from a child (also a first, discarded, start-up of the JVM and the jars).
        Run hello = runChild(variants.get(0), List.of(), HelloMain.class, List.of());
        String jdk = String.format("JDK %s (%s %s, %s) at %s", value(hello, "java.version"), value(hello, "java.vm.name"),
                value(hello, "java.vm.version"), value(hello, "java.vendor"), value(hello, "java.home"));

        // 1. JVM start-up: interleaved, after two discarded runs per variant (disk cache, CPU clock).
        Map<Variant, List<Long>> startNanos = new LinkedHashMap<>();
        Map<Variant, List<Long>> agentMillis = new LinkedHashMap<>();
        Map<Variant, List<Long>> toMainNanos = new LinkedHashMap<>();
        Map<Variant, Boolean> cdsWarning = new LinkedHashMap<>();
        List<Variant> startupVariants = new ArrayList<>(variants);
        startupVariants.add(noopAgent);
        for (Variant v : startupVariants) {
            startNanos.put(v, new ArrayList<>());
            agentMillis.put(v, new ArrayList<>());
            toMainNanos.put(v, new ArrayList<>());
            cdsWarning.put(v, false);
        }
        progress("start-up: " + startupRuns + " runs per variant (+2 discarded)");
        for (int i = -2; i < startupRuns; i++) {
            for (Variant v : rotated(startupVariants, i)) {
                Run r = runChild(v, List.of(), HelloMain.class, List.of());
                if (!r.stdout().startsWith("hello")) {
                    throw new IllegalStateException(v.name() + ": HelloMain printed no greeting; stderr:\n" + r.stderr());
                }
                if (i < 0) {
                    continue;
                }
                startNanos.get(v).add(r.wallNanos());
                toMainNanos.get(v).add((Long.parseLong(value(r, "main_entered_epoch_ms")) - r.launchedEpochMs()) * 1_000_000L);
                Matcher m = AGENT_STARTED.matcher(r.stderr());
                if (m.find()) {
                    agentMillis.get(v).add(Long.parseLong(m.group(1)) * 1_000_000L);
                }
                if (r.stderr().contains(CDS_WARNING)) {
                    cdsWarning.put(v, true);
                }
            }
        }

        // Where start-up time goes: one run per variant with class loading logged.
        Map<Variant, ClassLoads> loads = new LinkedHashMap<>();
        for (Variant v : startupVariants) {
            Path log = tmp.resolve("classload-" + startupVariants.indexOf(v) + ".log");
            runChild(v, List.of("-Xlog:class+load=info:file=" + log), HelloMain.class, List.of());
            loads.put(v, ClassLoads.read(log));
        }

        // 2. Loopback connect + close.
        progress("connect+close: " + rounds + " round(s) x " + variants.size() + " variants, " + connectIterations
                + " iterations after " + connectWarmup + " warm-up");
        Map<Variant, Loop> connect = measureLoop(rounds, ConnectLoopMain.class,
                List.of("--iterations", String.valueOf(connectIterations), "--warmup", String.valueOf(connectWarmup),
                        "--close", "rst"),
                "ops_per_sec", null);

        // 3. Keep-alive HTTP with HttpURLConnection.
        progress("keep-alive HTTP: " + rounds + " round(s) x " + variants.size() + " variants, " + requests
                + " requests after " + requestWarmup + " warm-up");
        Map<Variant, Loop> keepAlive = measureLoop(rounds, KeepAliveLoopMain.class,
                List.of("--requests", String.valueOf(requests), "--warmup", String.valueOf(requestWarmup),
                        "--client", "urlconnection"),
                "requests_per_sec", "connections");

        // Report.
        Variant base = variants.get(0);
        md.append("#### ProcessBench: ").append(jdk).append("\n\n");
        md.append("- Command: `java -cp ").append(shortPath(classPath)).append(' ')
                .append(ProcessBench.class.getName()).append(argv.length == 0 ? "" : " " + String.join(" ", argv))
                .append("`\n");
        md.append("- Child JVM: `").append(java).append("`; agent: `").append(agentJar).append("`\n");
        md.append("- Machine: ").append(machine()).append("\n");
        if (!loadBefore.isEmpty()) {
            md.append("- Load average (1/5/15 min) before: ").append(loadBefore).append(", after: ")
                    .append(loadAverage()).append(" (anything else running skews these numbers)\n");
        }
        if (!removedEnv.isEmpty()) {
            md.append("- Removed from the children's environment: ").append(String.join(", ", removedEnv)).append('\n');
        }
        md.append('\n');

        md.append("JVM start-up, trivial main (`HelloMain`), wall clock per process, ").append(startupRuns)
                .append(" runs per variant, interleaved:\n\n");
        boolean ownTimes = agentMillis.values().stream().anyMatch(l -> !l.isEmpty());
        md.append("| Variant | median ms | p90 ms | min ms | median vs without | launch to main() (median) |"
                + (ownTimes ? " agent log \"started in\" (median) |" : "") + " CDS warning |\n");
        md.append("|---|---:|---:|---:|---:|---:|" + (ownTimes ? "---:|" : "") + "---|\n");
        double baseMedianMs = millis(median(startNanos.get(base)));
        double baseToMainMs = millis(median(toMainNanos.get(base)));
        for (Variant v : startupVariants) {
            List<Long> s = startNanos.get(v);
            double med = millis(median(s));
            List<Long> own = agentMillis.get(v);
            double toMain = millis(median(toMainNanos.get(v)));
            md.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.0f | %s | %s |%s %s |%n", v.name(), med,
                    millis(percentile(s, 90)), millis(Collections.min(s)),
                    v == base ? "—" : String.format(Locale.ROOT, "%+.0f ms", med - baseMedianMs),
                    v == base ? String.format(Locale.ROOT, "%.0f ms", toMain)
                            : String.format(Locale.ROOT, "%.0f ms (%+.0f)", toMain, toMain - baseToMainMs),
                    !ownTimes ? "" : own.isEmpty() ? " — |" : String.format(Locale.ROOT, " %.0f ms |", millis(median(own))),
                    cdsWarning.get(v) ? "yes" : "no"));
        }
        md.append("\n\"Launch to main()\" is from just before starting the process to the first line of main()"
                + " (millisecond clock), so it contains premain." + (ownTimes ? " \"Started in\" is what the agent's own"
                + " log line says (the agent's choice of start and end points, not the whole premain)." : "")
                + " \"CDS warning\": the JVM printed that appending to the bootstrap class path limits class data"
                + " sharing to boot loader classes.\n\n");

        md.append("Classes loaded by the trivial main (`-Xlog:class+load`, one run per variant):\n\n");
        md.append("| Variant | classes loaded | from the CDS archive | not from CDS: JDK | not from CDS: ConnGuard |"
                + " not from CDS: other |\n");
        md.append("|---|---:|---:|---:|---:|---:|\n");
        for (Variant v : startupVariants) {
            ClassLoads c = loads.get(v);
            md.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %d |%n", v.name(), c.total, c.shared,
                    c.jdk, c.connguard, c.other));
        }
        md.append('\n');

        appendLoopTable(md, "Loopback connect + close (`new Socket()`, close with SO_LINGER 0, " + connectIterations
                + " after " + connectWarmup + " warm-up)", "ops/s", connect, base, rounds);
        appendLoopTable(md, "Keep-alive HTTP/1.1 GET (`HttpURLConnection`, " + requests + " requests after "
                + requestWarmup + " warm-up, one connection)", "requests/s", keepAlive, base, rounds);

        Variant with = variants.get(1);
        double startDelta = millis(median(startNanos.get(with))) - baseMedianMs;
        double connectRatio = medianD(connect.get(with).rate()) / medianD(connect.get(base).rate());
        double keepAliveRatio = medianD(keepAlive.get(with).rate()) / medianD(keepAlive.get(base).rate());
        md.append("Against the performance budget (with agent vs without, medians of this run):\n\n");
        md.append(String.format(Locale.ROOT, "- start-up %+.0f ms: %s (goal < 150 ms, limit well under 1 s)%n",
                startDelta, startDelta < 150 ? "within the goal" : startDelta < 1000 ? "OVER the 150 ms goal" : "OVER budget"));
        md.append(String.format(Locale.ROOT, "- connect+close %.3f of without (%+.1f%%): %s (budget: within a few percent)%n",
                connectRatio, (connectRatio - 1) * 100, connectRatio >= 0.95 ? "within" : "OVER"));
        md.append(String.format(Locale.ROOT, "- keep-alive %.3f of without (%+.1f%%): %s (budget: within 2%%)%n",
                keepAliveRatio, (keepAliveRatio - 1) * 100, keepAliveRatio >= 0.98 ? "within" : "OVER"));
        md.append("- ").append(Runtime.getRuntime().availableProcessors())
                .append(" CPUs: run-to-run spread (see the runs columns) is often larger than these budgets.\n");

        System.out.println();
        System.out.print(md);
    }

    /** Per variant: the rate (ops/s) and the measuring thread's CPU µs per op, one entry per run. */
    private record Loop(List<Double> rate, List<Double> cpuUs) {
    }

    private Map<Variant, Loop> measureLoop(int rounds, Class<?> main, List<String> mainArgs, String key,
                                           String checkKey) throws Exception {
        Map<Variant, Loop> results = new LinkedHashMap<>();
        for (Variant v : variants) {
            results.put(v, new Loop(new ArrayList<>(), new ArrayList<>()));
        }
        for (int round = 0; round < rounds; round++) {
            for (Variant v : rotated(variants, round)) {
                Run r = runChild(v, List.of(), main, mainArgs);
                double value = Double.parseDouble(value(r, key));
                double cpu = Double.parseDouble(value(r, "thread_cpu_us_per_op"));
                if (checkKey != null) {
                    int connections = Integer.parseInt(value(r, checkKey));
                    if (connections > 10) {
                        throw new IllegalStateException(v.name() + ": " + connections
                                + " connections for a keep-alive run: keep-alive was not in effect");
                    }
                }
                results.get(v).rate().add(value);
                results.get(v).cpuUs().add(cpu);
                progress(String.format(Locale.ROOT, "  round %d %-32s %,10.0f %s, %.2f thread-CPU µs/op",
                        round + 1, v.name(), value, key, cpu));
            }
        }
        return results;
    }

    private static void appendLoopTable(StringBuilder md, String title, String unit, Map<Variant, Loop> results,
                                        Variant base, int rounds) {
        md.append(title).append(", ").append(rounds).append(" run(s) per variant, alternating:\n\n");
        md.append("| Variant | median ").append(unit).append(" | runs | ratio vs without | wall time per op vs without |"
                + " thread CPU µs/op (median) | thread CPU vs without |\n");
        md.append("|---|---:|---|---:|---:|---:|---:|\n");
        double baseMedian = medianD(results.get(base).rate());
        double baseCpu = medianD(results.get(base).cpuUs());
        for (Map.Entry<Variant, Loop> e : results.entrySet()) {
            double med = medianD(e.getValue().rate());
            double cpu = medianD(e.getValue().cpuUs());
            String runs = e.getValue().rate().stream().map(d -> String.format(Locale.ROOT, "%,.0f", d))
                    .collect(Collectors.joining(" / "));
            boolean isBase = e.getKey() == base;
            md.append(String.format(Locale.ROOT, "| %s | %,.0f | %s | %s | %s | %.2f | %s |%n", e.getKey().name(), med,
                    runs,
                    isBase ? "1.000" : String.format(Locale.ROOT, "%.3f", med / baseMedian),
                    isBase ? "—" : String.format(Locale.ROOT, "%+.2f µs", 1e6 / med - 1e6 / baseMedian),
                    cpu,
                    isBase ? "—" : String.format(Locale.ROOT, "%+.2f µs (%+.1f%%)", cpu - baseCpu,
                            (cpu / baseCpu - 1) * 100)));
        }
        md.append('\n');
    }

    /** Starts one child JVM, waits for it within the time limit, and returns its output. */
    private Run runChild(Variant v, List<String> jvmOptions, Class<?> main, List<String> mainArgs) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        if (v.agentJar() != null) {
            cmd.add("-javaagent:" + v.agentJar());
        }
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(main.getName());
        cmd.addAll(mainArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(baseEnv);
        pb.environment().putAll(v.env());
        File out = Files.createTempFile(tmp, "out-", ".txt").toFile();
        File err = Files.createTempFile(tmp, "err-", ".txt").toFile();
        pb.redirectOutput(out).redirectError(err).redirectInput(ProcessBuilder.Redirect.from(new File(nullDevice())));
        long launched = System.currentTimeMillis();
        long t0 = System.nanoTime();
        Process p = pb.start();
        LIVE.add(p);
        boolean done;
        try {
            done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        } finally {
            if (p.isAlive()) {
                destroy(p);
            }
            LIVE.remove(p);
        }
        long wall = System.nanoTime() - t0;
        String stdout = Files.readString(out.toPath(), StandardCharsets.UTF_8);
        String stderr = Files.readString(err.toPath(), StandardCharsets.UTF_8);
        Files.deleteIfExists(out.toPath());
        Files.deleteIfExists(err.toPath());
        if (!done) {
            throw new IllegalStateException(v.name() + ": " + main.getSimpleName() + " (pid " + p.pid()
                    + ") did not finish within " + timeoutSeconds + " s and was destroyed; stderr:\n" + stderr);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(v.name() + ": " + main.getSimpleName() + " exited with " + p.exitValue()
                    + "; command: " + String.join(" ", cmd) + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
        }
        return new Run(wall, launched, stdout, stderr);
    }

    private static String value(Run r, String key) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(key) + "=(.*?)\\s*$").matcher(r.stdout());
        if (!m.find()) {
            throw new IllegalStateException("the child printed no '" + key + "=' line; stdout:\n" + r.stdout()
                    + "\nstderr:\n" + r.stderr());
        }
        return m.group(1);
    }

    /** Destroys one child and its descendants by PID: politely, then forcibly after 5 s. */
    private static void destroy(Process p) {
        List<ProcessHandle> descendants = p.descendants().collect(Collectors.toList());
        p.destroy();
        descendants.forEach(ProcessHandle::destroy);
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    private static void destroyAll() {
        for (Process p : new ArrayList<>(LIVE)) {
            if (p.isAlive()) {
                destroy(p);
            }
            LIVE.remove(p);
        }
    }

    private void deleteTmp() {
        try (Stream<Path> files = Files.walk(tmp)) {
            files.sorted(Collections.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a temporary directory
        }
    }

    /** Classes that a JVM loaded, by where they came from, from {@code -Xlog:class+load} output. */
    private static final class ClassLoads {
        int total;
        int shared;
        int jdk;
        int connguard;
        int other;

        static ClassLoads read(Path log) throws IOException {
            ClassLoads c = new ClassLoads();
            if (!Files.exists(log)) {
                return c;
            }
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                int src = line.indexOf(" source: ");
                if (src < 0) {
                    continue;
                }
                c.total++;
                String source = line.substring(src + 9);
                String name = line.substring(line.indexOf(']', line.indexOf("[class,load")) + 1, src).trim();
                if (source.startsWith("shared objects file")) {
                    c.shared++;
                } else if ((name.startsWith("io.connguard.") && !name.startsWith("io.connguard.bench."))
                        || source.contains("connguard-agent") || source.contains("connguard-bootstrap")) {
                    c.connguard++;
                } else if (source.startsWith("jrt:/") || source.contains("__JVM_") || source.startsWith("java.")
                        || source.startsWith("jdk.") || name.startsWith("java.") || name.startsWith("jdk.")
                        || name.startsWith("sun.")) {
                    c.jdk++;
                } else {
                    c.other++;
                }
            }
            return c;
        }
    }

    // ---- small helpers ----

    private static String resolveJava(String option) {
        if (option == null) {
            return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        }
        Path p = Paths.get(option);
        if (Files.isDirectory(p)) {
            p = p.resolve("bin").resolve("java");
        }
        if (!Files.isExecutable(p)) {
            throw new IllegalArgumentException("--java " + option + ": " + p + " is not an executable java");
        }
        return p.toAbsolutePath().toString();
    }

    private static Path resolveAgent(String option) {
        String chosen = option != null ? option
                : System.getProperty("connguard.agent.jar", "agent/target/connguard-agent.jar");
        Path p = Paths.get(chosen).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            System.err.println("ProcessBench: ConnGuard agent jar not found: " + p + ". Build it with"
                    + " `mvn -B -q install -DskipTests` in the project root and run from there, or pass --agent <jar>.");
            System.exit(2);
        }
        return p;
    }

    /** JDKs installed next to the running one (siblings of its java.home that have bin/java). */
    private static void listJdks() throws IOException {
        Path home = Paths.get(System.getProperty("java.home")).toRealPath();
        Path parent = home.getParent();
        System.out.println("running: " + home);
        if (parent == null) {
            return;
        }
        try (Stream<Path> s = Files.list(parent)) {
            for (Path p : s.sorted().collect(Collectors.toList())) {
                Path bin = p.resolve("bin").resolve("java");
                if (Files.isExecutable(bin)) {
                    Path real = p.toRealPath();
                    System.out.println(p + (real.equals(p) ? "" : " -> " + real));
                }
            }
        }
    }

    /** A jar with only a manifest whose Premain-Class is {@link NoopAgent} (loaded from the class path). */
    private static Path writeNoopAgentJar(Path dir) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Premain-Class", NoopAgent.class.getName());
        Path jar = dir.resolve("noop-agent.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m)) {
            out.flush();
        }
        return jar;
    }

    private static List<Variant> rotated(List<Variant> list, int by) {
        List<Variant> r = new ArrayList<>(list);
        Collections.rotate(r, Math.floorMod(by, list.size()));
        return r;
    }

    private static long median(List<Long> xs) {
        List<Long> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static double medianD(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** Nearest-rank percentile. */
    private static long percentile(List<Long> xs, int pct) {
        List<Long> s = new ArrayList<>(xs);
        Collections.sort(s);
        int rank = (int) Math.ceil(pct / 100.0 * s.size());
        return s.get(Math.max(0, Math.min(s.size() - 1, rank - 1)));
    }

    private static double millis(long nanos) {
        return nanos / 1e6;
    }

    private static String machine() {
        String cpu = "";
        try {
            Path info = Paths.get("/proc/cpuinfo");
            if (Files.isReadable(info)) {
                cpu = Files.readAllLines(info).stream().filter(l -> l.startsWith("model name"))
                        .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("");
            }
        } catch (IOException ignored) {
            // the CPU model is only decoration
        }
        return Runtime.getRuntime().availableProcessors() + " CPUs" + (cpu.isEmpty() ? "" : " (" + cpu + ")") + ", "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch");
    }

    static String loadAverage() {
        try {
            Path p = Paths.get("/proc/loadavg");
            if (Files.isReadable(p)) {
                String[] f = Files.readString(p).trim().split("\\s+");
                return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "";
            }
        } catch (IOException ignored) {
            // Linux only, decoration
        }
        return "";
    }

    private static String shortPath(String cp) {
        Path cwd = Paths.get("").toAbsolutePath();
        return Stream.of(cp.split(File.pathSeparator)).map(e -> {
            Path p = Paths.get(e).toAbsolutePath();
            return p.startsWith(cwd) ? cwd.relativize(p).toString() : e;
        }).collect(Collectors.joining(File.pathSeparator));
    }

    private static String nullDevice() {
        return System.getProperty("os.name", "").startsWith("Windows") ? "NUL" : "/dev/null";
    }

    private static void progress(String line) {
        System.err.println("[processbench] " + line);
    }
}

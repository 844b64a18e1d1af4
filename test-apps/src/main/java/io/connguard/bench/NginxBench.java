package io.connguard.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.connguard.testapps.client.PullStorm;
import io.connguard.testapps.server.Nginx;

/**
 * The issue-13 storm against a real nginx, as a whole-process benchmark: {@link PullStorm} in a
 * child JVM against a private {@link Nginx} ({@code worker_processes 2}, {@code limit_conn <cap>}
 * refused with 401), in variants measured in the same run, rotated round by round:
 * <ul>
 *   <li><b>agent</b>: {@code threads} pullers, the agent with {@code CONNGUARD_HOST_LIMITS=127.0.0.1=<cap>};</li>
 *   <li><b>ideal</b>: no agent and only {@code cap} pullers doing the same number of GETs in all, so
 *       never more than {@code cap} connections: what a storm at the cap should cost;</li>
 *   <li><b>own-queue</b> (with {@code --variants}): no agent, {@code threads} pullers that take a fair
 *       semaphore of {@code cap} permits around each GET: the best the application could do by hand
 *       with as many threads as the agent run, so what those threads cost apart from the agent;</li>
 *   <li><b>agent-cap-threads</b> (with {@code --variants}): the agent at the cap with only
 *       {@code cap} pullers, which never wait: the agent's hooks apart from waiting.</li>
 * </ul>
 * nginx proxies the blobs to Debian's {@code docker-registry} ({@link RegistryBackend}, as in the
 * issue; {@code --backend static}: nginx serves them itself, which reproduces the connection churn
 * but not the refusals, see {@link Nginx.Upstream}).
 * For plain HTTP and TLS (a self-signed certificate the client trusts), per client style. Each run
 * gets a fresh nginx; from its access log come the TCP connections it saw ({@code $connection}) and
 * the refused requests. Prints a Markdown report: per variant the medians of wall time, client CPU
 * per request (the child's process CPU during the storm), server CPU (nginx master and workers, and
 * the registry's during the run),
 * connections per request and refusals, and the agent/ideal ratios.
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar io.connguard.bench.NginxBench
 *      [--agent agent/target/connguard-agent.jar] [--java &lt;java or JDK home&gt;] [--rounds 2]
 *      [--clients urlconnection,httpclient-per-thread] (or httpclient-shared) [--transports http,tls]
 *      [--cap 8] [--threads 48] [--requests 27] [--workers 2] [--backend registry|static] [--keep-logs &lt;dir&gt;]
 *      [--variants ideal,agent] (also own-queue, agent-cap-threads) [--warm-up-ms 0]
 *      [--agent-env CONNGUARD_NAME=value,...] (more settings for the agent runs)
 * </pre>
 * Every process it starts (nginx, the client JVMs) listens and connects on 127.0.0.1 only, has a
 * time limit and is stopped by its PID.
 */
public final class NginxBench {

    private static final Set<String> VALUE_OPTIONS = Set.of("--agent", "--java", "--rounds", "--clients",
            "--transports", "--cap", "--threads", "--requests", "--workers", "--keep-logs", "--backend", "--variants", "--warm-up-ms", "--agent-env");
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(180);
    private static final List<String> ALL_VARIANTS = List.of("ideal", "agent", "own-queue", "agent-cap-threads");
    /** What a shutdown hook must end, by PID, if this JVM is stopped mid-run. */
    private static final Set<Nginx> LIVE_SERVERS = ConcurrentHashMap.newKeySet();
    private static final Set<Process> LIVE_CLIENTS = ConcurrentHashMap.newKeySet();

    /** One storm: what the client said and what nginx saw. */
    private record Run(long wallMs, long cpuMs, long processCpuMs, long serverCpuMs, long requests, long failed,
                       Nginx.AccessLog log) {
    }

    private final String java;
    private final Path agent;
    private final String classPath;
    private final int cap;
    private final int threads;
    private final int requests;
    private final int workers;
    private final Path work;
    private final Path keepLogs;
    /** The registry nginx proxies the blobs to; null: nginx serves them itself. */
    private RegistryBackend registry;
    private List<String> variants = List.of("ideal", "agent");
    /** More settings for the agent runs ({@code CONNGUARD_X=v,CONNGUARD_Y=w}), e.g. to compare settle times. */
    private Map<String, String> agentEnv = Map.of();
    /** &gt; 0: each client first GETs every blob once, then pauses this long before the measured storm. */
    private int warmUpMs;
    private Nginx.Upstream upstream;
    private int runs;

    private NginxBench(String java, Path agent, int cap, int threads, int requests, int workers, Path work,
                       Path keepLogs) {
        this.java = java;
        this.agent = agent;
        this.classPath = System.getProperty("java.class.path");
        this.cap = cap;
        this.threads = threads;
        this.requests = requests;
        this.workers = workers;
        this.work = work;
        this.keepLogs = keepLogs;
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs args;
        try {
            args = new BenchArgs(argv, VALUE_OPTIONS, Set.of());
        } catch (IllegalArgumentException e) {
            System.err.println("NginxBench: " + e.getMessage());
            System.exit(2);
            return;
        }
        String java = PairedForks.java(args);
        Path agent = PairedForks.agent(args, "NginxBench");
        List<String> clients = PairedForks.list(args.string("--clients", null),
                List.of("urlconnection", "httpclient-per-thread"), PullStorm.KINDS, "--clients");
        List<String> transports = PairedForks.list(args.string("--transports", null), List.of("http", "tls"),
                List.of("http", "tls"), "--transports");
        List<String> variants = PairedForks.list(args.string("--variants", null), List.of("ideal", "agent"),
                ALL_VARIANTS, "--variants");
        if (!variants.contains("ideal")) {
            System.err.println("NginxBench: --variants must include ideal (the ratios are against it)");
            System.exit(2);
            return;
        }
        int rounds = Math.max(1, args.integer("--rounds", 2));
        String keep = args.string("--keep-logs", null);
        Path work = Files.createTempDirectory("connguard-nginx-bench");
        // nginx's workers run as nobody when started as root: they must get through to the blobs.
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LIVE_CLIENTS.forEach(Process::destroyForcibly);
            LIVE_SERVERS.forEach(Nginx::kill);
        }, "nginx-bench-cleanup"));
        NginxBench bench = new NginxBench(java == null ? Paths.get(System.getProperty("java.home"), "bin", "java")
                .toString() : java, agent, Math.max(1, args.integer("--cap", 8)), Math.max(1, args.integer("--threads", 48)),
                Math.max(1, args.integer("--requests", 27)), Math.max(1, args.integer("--workers", 2)), work,
                keep == null ? null : Paths.get(keep));
        String backend = args.string("--backend", "registry");
        try {
            if (backend.equals("registry")) {
                if (!RegistryBackend.installed()) {
                    System.err.println("NginxBench: " + RegistryBackend.BINARY + " is not installed (Debian package"
                            + " docker-registry); install it or pass --backend static");
                    System.exit(2);
                }
                bench.registry = RegistryBackend.start(work.resolve("registry"));
                bench.upstream = bench.registry.pushBlobs();
            } else if (!backend.equals("static")) {
                System.err.println("NginxBench: --backend must be registry or static, got '" + backend + "'");
                System.exit(2);
            }
            bench.variants = variants;
            bench.warmUpMs = Math.max(0, args.integer("--warm-up-ms", 0));
            bench.agentEnv = agentEnv(args.string("--agent-env", ""));
            bench.run(argv, clients, transports, rounds);
        } finally {
            if (bench.registry != null) {
                bench.registry.close();
            }
            deleteQuietly(work);
        }
    }

    private void run(String[] argv, List<String> clients, List<String> transports, int rounds) throws Exception {
        String loadBefore = ProcessBench.loadAverage();
        long started = System.nanoTime();
        int total = threads * requests;
        int idealRequests = (total + cap - 1) / cap;
        Nginx.Certificate certificate = transports.contains("tls") ? Nginx.selfSigned(work.resolve("tls")) : null;
        progress("NginxBench: nginx " + workers + " workers, limit_conn " + cap + " (401); agent: " + threads
                + " pullers x " + requests + " GETs, cap " + cap + "; ideal: " + cap + " pullers x " + idealRequests
                + " GETs, no agent; " + rounds + " round(s)");
        // transport -> client -> variant -> runs
        Map<String, Map<String, Map<String, List<Run>>>> results = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (String transport : transports) {
                for (String client : clients) {
                    List<String> order = new ArrayList<>(variants);
                    Collections.rotate(order, round);
                    for (String variant : order) {
                        Run r = storm(transport.equals("tls") ? certificate : null, client, variant, idealRequests);
                        results.computeIfAbsent(transport, t -> new LinkedHashMap<>())
                                .computeIfAbsent(client, c -> new LinkedHashMap<>())
                                .computeIfAbsent(variant, v -> new ArrayList<>()).add(r);
                        progress(String.format(Locale.ROOT, "  round %d %-4s %-22s %-5s wall %5d ms, client CPU %5d ms"
                                        + " (%.0f µs/req), server CPU %5d ms, %s, client failed %d", round + 1, transport,
                                client, variant, r.wallMs, r.cpuMs, 1000.0 * r.cpuMs / r.requests, r.serverCpuMs,
                                r.log.describe(), r.failed));
                    }
                }
            }
        }
        System.out.println();
        System.out.print(report(argv, results, rounds, loadBefore, (System.nanoTime() - started) / 60e9, total,
                idealRequests));
    }

    /** One storm against a fresh nginx: the client JVM with or without the agent, then nginx's access log. */
    private Run storm(Nginx.Certificate tls, String client, String variant, int idealRequests) throws Exception {
        boolean withAgent = variant.startsWith("agent");
        boolean fewThreads = variant.equals("ideal") || variant.equals("agent-cap-threads");
        Path dir = work.resolve("nginx-" + (++runs));
        try (Nginx nginx = Nginx.start(dir, new Nginx.Config(workers, cap, tls, upstream))) {
            LIVE_SERVERS.add(nginx);
            List<String> cmd = new ArrayList<>();
            cmd.add(java);
            if (withAgent) {
                cmd.add("-javaagent:" + agent);
            }
            if (tls != null) {
                cmd.addAll(tls.clientProperties());
            }
            cmd.addAll(List.of("-cp", classPath, PullStorm.class.getName(), "--kind", client, "--base", nginx.base(),
                    "--threads", String.valueOf(fewThreads ? cap : threads),
                    "--requests", String.valueOf(fewThreads ? idealRequests : requests)));
            if (warmUpMs > 0) {
                cmd.addAll(List.of("--warm-up-ms", String.valueOf(warmUpMs)));
            }
            if (variant.equals("own-queue")) {
                cmd.addAll(List.of("--own-queue", String.valueOf(cap)));
            }
            ProcessBuilder pb = new ProcessBuilder(cmd);
            // Nothing from this shell may change the children: no CONNGUARD_ setting but the cap, no JVM options.
            pb.environment().keySet().removeIf(k -> k.startsWith("CONNGUARD_") || k.equals("JAVA_TOOL_OPTIONS")
                    || k.equals("JDK_JAVA_OPTIONS") || k.equals("_JAVA_OPTIONS"));
            if (withAgent) {
                pb.environment().put("CONNGUARD_HOST_LIMITS", "127.0.0.1=" + cap);
                pb.environment().putAll(agentEnv);
            }
            Path out = dir.resolve("client.out");
            Path err = dir.resolve("client.err");
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            long registryCpuBefore = registryCpuMs();
            Process p = pb.start();
            LIVE_CLIENTS.add(p);
            try {
                if (!p.waitFor(CLIENT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                    throw new IllegalStateException(variant + " " + client + ": the client did not finish within "
                            + CLIENT_TIMEOUT + "; see " + err);
                }
            } finally {
                if (p.isAlive()) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
                LIVE_CLIENTS.remove(p);
            }
            long serverCpuMs = Stream.concat(Stream.of(nginxMaster(nginx)), nginxWorkers(nginx))
                    .mapToLong(h -> h.info().totalCpuDuration().map(Duration::toMillis).orElse(0L)).sum()
                    + registryCpuMs() - registryCpuBefore;
            String result = Files.readAllLines(out, StandardCharsets.UTF_8).stream().filter(l -> l.startsWith("RESULT "))
                    .findFirst().orElseThrow(() -> new IllegalStateException(variant + " " + client
                            + ": no RESULT line; exit " + p.exitValue() + ", stderr:\n" + readQuietly(err)));
            Map<String, String> kv = keyValues(result);
            Nginx.AccessLog log = nginx.accessLog();
            if (keepLogs != null) {
                Path target = keepLogs.resolve(String.format(Locale.ROOT, "%02d-%s-%s-%s", runs,
                        tls == null ? "http" : "tls", client, variant));
                Files.createDirectories(target);
                for (Path f : List.of(nginx.accessLogFile(), nginx.errorLogFile(), out, err)) {
                    if (Files.exists(f)) {
                        Files.copy(f, target.resolve(f.getFileName()));
                    }
                }
            }
            return new Run(Long.parseLong(kv.get("wallMs")), Long.parseLong(kv.get("cpuMs")),
                    Long.parseLong(kv.get("processCpuMs")), serverCpuMs, Long.parseLong(kv.get("requests")),
                    Long.parseLong(kv.get("failed")), log);
        } finally {
            LIVE_SERVERS.removeIf(n -> n.dir().equals(dir));
            deleteQuietly(dir);
        }
    }

    private long registryCpuMs() {
        return registry == null ? 0 : registry.handle().info().totalCpuDuration().map(Duration::toMillis).orElse(0L);
    }

    private static ProcessHandle nginxMaster(Nginx nginx) throws IOException {
        long pid = Long.parseLong(Files.readString(nginx.dir().resolve("nginx.pid")).trim());
        return ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("nginx master " + pid + " is gone"));
    }

    private static Stream<ProcessHandle> nginxWorkers(Nginx nginx) throws IOException {
        return nginxMaster(nginx).children();
    }

    private String report(String[] argv, Map<String, Map<String, Map<String, List<Run>>>> results, int rounds,
                          String loadBefore, double minutes, int total, int idealRequests) {
        StringBuilder md = new StringBuilder();
        md.append("#### NginxBench: JDK ").append(System.getProperty("java.version")).append("\n\n");
        md.append("- Command: `java -cp test-apps/target/connguard-test-apps.jar ").append(NginxBench.class.getName())
                .append(argv.length == 0 ? "" : " " + String.join(" ", argv)).append("`\n");
        md.append("- Client JVM: `").append(java).append("`; agent: `").append(agent).append("`\n");
        md.append("- Server: nginx ").append(workers).append(" workers, `limit_conn ").append(cap)
                .append("` (`limit_conn_status 401`), keep-alive, sending through a `sndbuf=").append(Nginx.SEND_BUFFER)
                .append("` socket 7 blobs of 48-512 KB ").append(upstream == null ? "it serves itself"
                        : "proxied from Debian's docker-registry (one for the whole run)")
                .append("; a fresh nginx per run\n");
        md.append("- agent: ").append(threads).append(" pullers x ").append(requests).append(" sequential GETs = ")
                .append(total).append(", `CONNGUARD_HOST_LIMITS=127.0.0.1=").append(cap).append("`")
                .append(agentEnv.entrySet().stream().map(e -> ", `" + e.getKey() + "=" + e.getValue() + "`")
                        .collect(Collectors.joining())).append("; ideal: ")
                .append(cap).append(" pullers x ").append(idealRequests).append(" GETs, no agent\n");
        md.append(String.format(Locale.ROOT, "- %d round(s), the variants' order alternated every round; %.1f minutes"
                + " in all; %d CPUs", rounds, minutes, Runtime.getRuntime().availableProcessors()));
        if (!loadBefore.isEmpty()) {
            md.append("; load average before ").append(loadBefore).append(", after ").append(ProcessBench.loadAverage());
        }
        md.append("\n\n");
        md.append("Medians over the rounds. Client CPU: the client process's CPU time during the storm (all threads);"
                + " server CPU: nginx's master and workers over the run (and the registry's CPU during the run); connections: distinct `$connection` in"
                + " nginx's access log; reused: requests with `$connection_requests` > 1; refused: requests nginx"
                + " answered with anything but 200 (the client's own failures in brackets if they differ); kept:"
                + " a puller's requests (after its first) on the same connection as its previous one.\n\n");
        md.append("| Transport | Client | Variant | wall ms | client CPU ms | client CPU µs/req | server CPU ms |"
                + " connections | connections/req | reused | kept | refused | wall / ideal | client CPU / ideal |\n");
        md.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        results.forEach((transport, byClient) -> byClient.forEach((client, byVariant) -> {
            List<Run> ideal = byVariant.get("ideal");
            for (String variant : variants) {
                List<Run> rs = byVariant.get(variant);
                double wall = median(rs, r -> r.wallMs);
                double cpu = median(rs, r -> r.cpuMs);
                double cpuPerReq = median(rs, r -> 1000.0 * r.cpuMs / r.requests);
                double connections = median(rs, r -> r.log.connections());
                double perReq = median(rs, r -> (double) r.log.connections() / r.log.requests());
                double reused = median(rs, r -> r.log.reusedShare());
                String refused = rs.stream().map(r -> r.log.refused() + (r.failed == r.log.refused() ? ""
                        : " (" + r.failed + ")")).collect(Collectors.joining(" / "));
                boolean isIdeal = variant.equals("ideal");
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.3f | %.0f%% | %.0f%% |"
                                + " %s | %s | %s |%n", transport, client, variant, wall, cpu, cpuPerReq,
                        median(rs, r -> r.serverCpuMs), connections, perReq, 100 * reused,
                        100 * median(rs, r -> r.log.keptShare()), refused,
                        isIdeal ? "—" : ratio(rs, ideal, r -> r.wallMs),
                        isIdeal ? "—" : ratio(rs, ideal, r -> r.cpuMs)));
            }
        }));
        md.append("\nRatios: the median of the per-round ratios (the variant's run / the ideal run of the same round), the"
                + " per-round values in brackets. The issue's goal: within 1.1x wall and 1.2x CPU, 0 refused.\n");
        return md.toString();
    }

    private interface Metric {
        double of(Run r);
    }

    private static double median(List<Run> runs, Metric m) {
        double[] xs = runs.stream().mapToDouble(m::of).sorted().toArray();
        return xs.length % 2 == 1 ? xs[xs.length / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
    }

    private static String ratio(List<Run> agent, List<Run> ideal, Metric m) {
        List<Double> per = new ArrayList<>();
        for (int i = 0; i < Math.min(agent.size(), ideal.size()); i++) {
            per.add(m.of(agent.get(i)) / m.of(ideal.get(i)));
        }
        double[] xs = per.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double med = xs.length % 2 == 1 ? xs[xs.length / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
        return String.format(Locale.ROOT, "%.2f (%s)", med,
                per.stream().map(d -> String.format(Locale.ROOT, "%.2f", d)).collect(Collectors.joining(", ")));
    }

    private static Map<String, String> agentEnv(String list) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String item : list.split(",")) {
            if (item.isBlank()) {
                continue;
            }
            int eq = item.indexOf('=');
            if (eq <= 0 || !item.startsWith("CONNGUARD_")) {
                System.err.println("NginxBench: --agent-env takes CONNGUARD_NAME=value,..., got '" + item + "'");
                System.exit(2);
            }
            env.put(item.substring(0, eq).trim(), item.substring(eq + 1).trim());
        }
        return env;
    }

    private static Map<String, String> keyValues(String line) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String token : line.trim().split("\\s+")) {
            int eq = token.indexOf('=');
            if (eq > 0) {
                kv.put(token.substring(0, eq), token.substring(eq + 1));
            }
        }
        return kv;
    }

    private static void progress(String line) {
        System.err.println(line);
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException ignored) {
            // a temporary directory
        }
    }
}

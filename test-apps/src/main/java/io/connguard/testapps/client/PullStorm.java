package io.connguard.testapps.client;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import io.connguard.testapps.clients.ClientDriver;
import io.connguard.testapps.common.Args;
import io.connguard.testapps.server.Nginx;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * Pullers pulling blobs, as the issue-13 storm against a real nginx ({@link Nginx}): {@code threads}
 * threads, each doing {@code requests} sequential GETs of {@code /blobs/0..6} (thread t starts at
 * blob t mod 7) with its number in an {@code X-Puller} header, reading every body whole, with one
 * client style:
 * <ul>
 *   <li>{@code urlconnection}: {@link HttpURLConnection}, the JVM-wide keep-alive cache shared by all;</li>
 *   <li>{@code httpclient-shared}: one {@link HttpClient} (HTTP/1.1) for all threads;</li>
 *   <li>{@code httpclient-per-thread}: an {@link HttpClient} of its own per puller;</li>
 *   <li>{@code okhttp-shared}: one {@link OkHttpClient} (its default pool) for all threads;</li>
 *   <li>{@code apache4-shared}, {@code apache5-shared}: one Apache HttpClient 4 or 5 (classic) for all
 *       threads, its pool allowing a connection per puller (plain HTTP; no {@code X-Puller}).</li>
 * </ul>
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.PullStorm \
 *      --kind urlconnection|httpclient-shared|httpclient-per-thread|okhttp-shared|apache4-shared|apache5-shared \
 *      --base http(s)://127.0.0.1:PORT \
 *      [--threads 48] [--requests 27] [--request-timeout-ms 30000] [--deadline-ms 120000] [--jmx]
 * </pre>
 * Prints {@code FAIL <count> <reason>} lines, then {@code RESULT kind=.. threads=.. requests=.. ok=..
 * failed=.. statuses=200:n,401:m wallMs=.. cpuMs=.. processCpuMs=..} ({@code cpuMs}: the process's
 * CPU time during the storm; {@code processCpuMs}: since the JVM started, start-up and agent
 * included), then with {@code --jmx} the ConnGuard MBeans. Exit code 0 whatever the outcome; 2 for
 * a bad command line.
 */
public final class PullStorm {

    public static final List<String> KINDS = List.of("urlconnection", "httpclient-shared", "httpclient-per-thread",
            "okhttp-shared", "apache4-shared", "apache5-shared");
    static final String USAGE = "PullStorm --kind " + String.join("|", KINDS) + " --base http(s)://127.0.0.1:PORT"
            + " [--threads 48] [--requests 27] [--request-timeout-ms 30000] [--deadline-ms 120000] [--own-queue N] [--warm-up-ms 0] [--jmx]";

    /** One GET of a path; returns the status after reading the body whole. */
    private interface Getter {
        int get(String path, String puller) throws Exception;
    }

    private PullStorm() {
    }

    public static void main(String[] argv) throws Exception {
        String kind;
        String base;
        int threads;
        int requests;
        int timeoutMs;
        int deadlineMs;
        int ownQueue;
        int warmUpMs;
        boolean jmx;
        try {
            Args args = Args.parse(argv, Set.of("kind", "base", "threads", "requests", "request-timeout-ms",
                    "deadline-ms", "own-queue", "warm-up-ms"), Set.of("jmx"));
            kind = args.required("kind");
            if (!KINDS.contains(kind)) {
                throw new Args.UsageException("--kind must be one of " + String.join("|", KINDS));
            }
            base = args.required("base").replaceAll("/+$", "");
            threads = args.integer("threads", 48, 1, 4096);
            requests = args.integer("requests", 27, 1, 1_000_000);
            timeoutMs = args.integer("request-timeout-ms", 30_000, 1, Integer.MAX_VALUE);
            deadlineMs = args.integer("deadline-ms", 120_000, 1, Integer.MAX_VALUE);
            ownQueue = args.integer("own-queue", 0, 0, 4096);
            warmUpMs = args.integer("warm-up-ms", 0, 0, 60_000);
            jmx = args.flag("jmx");
        } catch (Args.UsageException e) {
            Args.exitWithUsage("PullStorm", USAGE, e);
            return;
        }
        run(kind, base, threads, requests, timeoutMs, deadlineMs, ownQueue, warmUpMs);
        if (jmx) {
            JmxDump.print(System.out, 5_000);
        }
        System.out.flush();
        System.exit(0);
    }

    /**
     * @param ownQueue &gt; 0: each GET holds one of that many permits of a fair semaphore (the
     *                 application queueing by hand, for comparison with the agent's line)
     * @param warmUpMs &gt; 0: before the storm, one GET of every blob on the first puller's client,
     *                 then a pause this long, so that one-off costs (class loading, an agent's
     *                 class rewriting in the background, JIT) fall outside the measured storm
     */
    private static void run(String kind, String base, int threads, int requests, int timeoutMs, int deadlineMs,
            int ownQueue, int warmUpMs) throws InterruptedException {
        Semaphore queue = ownQueue > 0 ? new Semaphore(ownQueue, true) : null;
        List<String> blobs = Nginx.blobPaths();
        HttpClient shared = kind.equals("httpclient-shared") ? newClient(timeoutMs) : null;
        OkHttpClient okShared = kind.equals("okhttp-shared") ? newOkHttpClient(timeoutMs) : null;
        // Apache's: one client whose pool allows a connection per puller to the route (plain HTTP only)
        ClientDriver apache = kind.startsWith("apache") ? ClientDriver.create(kind.substring(0, kind.indexOf('-')),
                ClientDriver.Options.shared(timeoutMs, timeoutMs, threads)) : null;
        AtomicInteger ok = new AtomicInteger();
        AtomicLong bytes = new AtomicLong();
        Map<String, AtomicInteger> statuses = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> reasons = new ConcurrentHashMap<>();
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        Getter[] firstGetter = new Getter[1];
        for (int t = 0; t < threads; t++) {
            int id = t;
            Getter getter = switch (kind) {
                case "urlconnection" -> (path, puller) -> urlConnectionGet(base + path, puller, timeoutMs, bytes);
                case "httpclient-shared" -> (path, puller) -> httpClientGet(shared, base + path, puller, timeoutMs, bytes);
                case "okhttp-shared" -> (path, puller) -> okHttpGet(okShared, base + path, puller, bytes);
                case "apache4-shared", "apache5-shared" -> (path, puller) -> {
                    bytes.addAndGet(apache.fetch(URI.create(base + path))); // throws unless 200
                    return 200;
                };
                default -> {
                    HttpClient own = newClient(timeoutMs);
                    yield (path, puller) -> httpClientGet(own, base + path, puller, timeoutMs, bytes);
                }
            };
            if (firstGetter[0] == null) {
                firstGetter[0] = getter;
            }
            Getter inLine = queue == null ? getter : (path, puller) -> {
                queue.acquire();
                try {
                    return getter.get(path, puller);
                } finally {
                    queue.release();
                }
            };
            Thread worker = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < requests; i++) {
                        String reason;
                        try {
                            int status = inLine.get(blobs.get((id + i) % blobs.size()), String.valueOf(id));
                            statuses.computeIfAbsent(String.valueOf(status), s -> new AtomicInteger()).incrementAndGet();
                            reason = status == 200 ? null : "status=" + status;
                        } catch (Exception e) {
                            statuses.computeIfAbsent("error", s -> new AtomicInteger()).incrementAndGet();
                            reason = "exception " + (e.getClass().getSimpleName() + ": " + e.getMessage())
                                    .replaceAll("\\s+", " ");
                        }
                        if (reason == null) {
                            ok.incrementAndGet();
                        } else {
                            reasons.computeIfAbsent(reason, r -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            }, "puller-" + t);
            worker.setDaemon(true);
            worker.start();
        }
        if (warmUpMs > 0) {
            warmUp(firstGetter[0], blobs, warmUpMs);
            bytes.set(0);
        }
        long cpuBefore = processCpuNanos();
        long start = System.nanoTime();
        go.countDown();
        boolean finished = done.await(deadlineMs, TimeUnit.MILLISECONDS);
        long wallMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        long cpuMs = TimeUnit.NANOSECONDS.toMillis(processCpuNanos() - cpuBefore);
        long processCpuMs = ProcessHandle.current().info().totalCpuDuration().map(Duration::toMillis).orElse(-1L);
        int total = threads * requests;
        int failedCount = reasons.values().stream().mapToInt(AtomicInteger::get).sum();
        int unfinished = total - ok.get() - failedCount;
        if (!finished && unfinished > 0) {
            reasons.computeIfAbsent("unfinished at the deadline", r -> new AtomicInteger()).addAndGet(unfinished);
        }
        new TreeMap<>(reasons).forEach((reason, count) -> System.out.println("FAIL " + count + " " + reason));
        System.out.println("RESULT kind=" + kind + " threads=" + threads + " requests=" + total + " ok=" + ok.get()
                + " failed=" + (total - ok.get()) + " statuses=" + new TreeMap<>(statuses).entrySet().stream()
                .map(e -> e.getKey() + ":" + e.getValue().get()).collect(Collectors.joining(","))
                + " bytes=" + bytes.get() + " wallMs=" + wallMs + " cpuMs=" + cpuMs + " processCpuMs=" + processCpuMs);
        System.out.flush();
    }

    private static void warmUp(Getter getter, List<String> blobs, int pauseMs) throws InterruptedException {
        for (String blob : blobs) {
            try {
                getter.get(blob, "-"); // "-": not a puller in the access log's sequences
            } catch (Exception e) {
                System.out.println("WARM-UP " + blob + ": " + e);
            }
        }
        Thread.sleep(pauseMs);
    }

    /** The whole process's CPU time (all threads), in nanoseconds; -1 if the JVM cannot tell. */
    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** Reads the body (or error body) whole and closes it without {@code disconnect()}: the connection stays pooled. */
    private static int urlConnectionGet(String url, String puller, int timeoutMs, AtomicLong bytes)
            throws Exception {
        HttpURLConnection connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
        connection.setConnectTimeout(timeoutMs);
        connection.setReadTimeout(timeoutMs);
        connection.setUseCaches(false);
        connection.setRequestProperty(Nginx.PULLER_HEADER, puller);
        int status = connection.getResponseCode();
        InputStream body = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
        if (body != null) {
            try (body) {
                bytes.addAndGet(body.transferTo(OutputStream.nullOutputStream()));
            }
        }
        return status;
    }

    private static HttpClient newClient(int timeoutMs) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofMillis(timeoutMs)).build();
    }

    /** OkHttp's defaults (its pool: 5 idle connections kept 5 minutes), with the storm's timeouts. */
    private static OkHttpClient newOkHttpClient(int timeoutMs) {
        return new OkHttpClient.Builder().connectTimeout(Duration.ofMillis(timeoutMs))
                .readTimeout(Duration.ofMillis(timeoutMs)).build();
    }

    /** Reads the body whole and closes it: the connection goes back to the client's pool. */
    private static int okHttpGet(OkHttpClient client, String url, String puller, AtomicLong bytes) throws Exception {
        Request request = new Request.Builder().url(url).header(Nginx.PULLER_HEADER, puller).get().build();
        try (Response response = client.newCall(request).execute()) {
            ResponseBody body = response.body();
            if (body != null) {
                bytes.addAndGet(body.source().readAll(okio.Okio.blackhole()));
            }
            return response.code();
        }
    }

    private static int httpClientGet(HttpClient client, String url, String puller, int timeoutMs, AtomicLong bytes)
            throws Exception {
        HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofMillis(timeoutMs)).header(Nginx.PULLER_HEADER, puller).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        bytes.addAndGet(response.body().length);
        return response.statusCode();
    }
}

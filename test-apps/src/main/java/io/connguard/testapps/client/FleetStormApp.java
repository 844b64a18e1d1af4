package io.connguard.testapps.client;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import io.connguard.testapps.common.Args;

/**
 * One member of a fleet: a storm of GETs from many threads (a client kind of {@link LoadClient}),
 * started at the same instant as the storms of the other JVMs of the fleet because every one of them
 * waits for the same {@code --go-file} to appear. Each thread does {@code --requests} GETs, or, with
 * {@code --duration-ms}, GETs one after another until that much time has passed since the start.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.FleetStormApp \
 *      --url http://127.0.0.1:PORT/v2/x --go-file FILE [--kind socket] [--threads 16] \
 *      [--requests 10 | --duration-ms 10000] [--progress-ms 0] [--connect-timeout-ms 30000] \
 *      [--request-timeout-ms 30000] [--deadline-ms 120000] [--go-timeout-ms 60000] [--jmx] [--warm-up]
 * </pre>
 * With {@code --warm-up}, one connection to a listener of its own first (see {@link #warmUp()}).
 * Prints {@code READY threads=n} once every thread has its client, {@code GO atMs=<epoch ms>} when
 * the go file appeared, with {@code --progress-ms} a line {@code PROGRESS atMs=<epoch ms> ok=n
 * failed=n} that often, the first few failures as {@code FAILAT atMs=<epoch ms> <reason>}, then
 * {@code FAIL <count> <reason>} lines, {@code RESULT kind=.. ok=.. failed=.. elapsedMs=.. maxRequestMs=..}
 * and with {@code --jmx} ConnGuard's MBeans (see {@link JmxDump}). Exit code 0 whatever the
 * outcome; 2 for a bad command line; 3 when the go file never appeared.
 */
public final class FleetStormApp {

    static final String USAGE = "FleetStormApp --url http://127.0.0.1:PORT/path --go-file FILE [--kind socket]"
            + " [--threads 16] [--requests 10 | --duration-ms 10000] [--progress-ms 0] [--connect-timeout-ms 30000]"
            + " [--request-timeout-ms 30000] [--deadline-ms 120000] [--go-timeout-ms 60000] [--jmx] [--warm-up]";

    private static final int FAILURES_WITH_TIME = 20;

    private final LongAdder ok = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final AtomicLong maxRequestNanos = new AtomicLong();
    private final AtomicLong failuresShown = new AtomicLong();
    private final Map<String, LongAdder> reasons = new ConcurrentHashMap<>();

    private FleetStormApp() {
    }

    public static void main(String[] argv) throws Exception {
        String kind;
        Target target;
        Path goFile;
        int threads;
        int requests;
        int durationMs;
        int progressMs;
        int deadlineMs;
        int goTimeoutMs;
        boolean jmx;
        boolean warmUp;
        Requester.Factory factory;
        try {
            Args args = Args.parse(argv, Set.of("kind", "url", "go-file", "threads", "requests", "duration-ms",
                    "progress-ms", "connect-timeout-ms", "request-timeout-ms", "deadline-ms", "go-timeout-ms"),
                    Set.of("jmx", "warm-up"));
            kind = args.string("kind", "socket");
            target = Target.parse(args.required("url"));
            goFile = Path.of(args.required("go-file"));
            threads = args.integer("threads", 16, 1, 4096);
            requests = args.integer("requests", 10, 1, 1_000_000);
            durationMs = args.integer("duration-ms", 0, 0, 3_600_000);
            progressMs = args.integer("progress-ms", 0, 0, 60_000);
            deadlineMs = args.integer("deadline-ms", 120_000, 1, Integer.MAX_VALUE);
            goTimeoutMs = args.integer("go-timeout-ms", 60_000, 1, Integer.MAX_VALUE);
            jmx = args.flag("jmx");
            warmUp = args.flag("warm-up");
            factory = LoadClient.factory(kind, target, args.integer("connect-timeout-ms", 30_000, 0, Integer.MAX_VALUE),
                    args.integer("request-timeout-ms", 30_000, 0, Integer.MAX_VALUE));
        } catch (Args.UsageException e) {
            Args.exitWithUsage("FleetStormApp", USAGE, e);
            return;
        }
        if (warmUp) {
            warmUp();
        }
        int exit;
        try (Requester.Factory f = factory) {
            exit = new FleetStormApp().run(kind, f, goFile, threads, requests, durationMs, progressMs, deadlineMs, goTimeoutMs);
        }
        if (jmx && exit == 0) {
            JmxDump.print(System.out, 5_000);
        }
        System.out.flush();
        System.exit(exit);
    }

    /**
     * One connection to a listener of this JVM on another port: with the agent, the first connect
     * waits until class rewriting is ready, so this gets it out of the way before READY (and the
     * storms of the fleet then really start together). Not a fleet-capped destination.
     */
    private static void warmUp() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 30_000);
            listener.accept().close();
        }
        System.out.println("WARMED");
        System.out.flush();
    }

    private int run(String kind, Requester.Factory factory, Path goFile, int threads, int requests, int durationMs,
                    int progressMs, int deadlineMs, int goTimeoutMs) throws InterruptedException {
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        long[] startNanos = new long[1];
        List<Thread> workers = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> work(factory, ready, go, startNanos, requests, durationMs), "fleet-load-" + t);
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }
        ready.await(60, TimeUnit.SECONDS);
        System.out.println("READY threads=" + threads);
        System.out.flush();

        long goDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(goTimeoutMs);
        while (!Files.exists(goFile)) {
            if (System.nanoTime() > goDeadline) {
                System.out.println("NOGO " + goFile + " did not appear within " + goTimeoutMs + " ms");
                System.out.flush();
                return 3;
            }
            Thread.sleep(2);
        }
        long start = System.nanoTime();
        startNanos[0] = start;
        go.countDown();
        System.out.println("GO atMs=" + System.currentTimeMillis());
        System.out.flush();

        long deadline = start + TimeUnit.MILLISECONDS.toNanos(deadlineMs);
        long nextProgress = start + TimeUnit.MILLISECONDS.toNanos(progressMs);
        for (Thread worker : workers) {
            while (worker.isAlive() && System.nanoTime() < deadline) {
                long until = progressMs > 0 ? Math.min(deadline, nextProgress) : deadline;
                long waitMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()));
                worker.join(waitMs);
                if (progressMs > 0 && System.nanoTime() >= nextProgress) {
                    progress();
                    nextProgress += TimeUnit.MILLISECONDS.toNanos(progressMs);
                }
            }
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (progressMs > 0) {
            progress();
        }
        boolean unfinished = workers.stream().anyMatch(Thread::isAlive);
        if (unfinished) {
            long expected = durationMs > 0 ? 0 : (long) threads * requests;
            long missing = Math.max(1, expected - ok.sum() - failed.sum());
            failed.add(missing);
            reasons.computeIfAbsent("unfinished after --deadline-ms " + deadlineMs, k -> new LongAdder()).add(missing);
        }
        printFailures();
        System.out.println("RESULT kind=" + kind + " ok=" + ok.sum() + " failed=" + failed.sum() + " elapsedMs=" + elapsedMs
                + " maxRequestMs=" + TimeUnit.NANOSECONDS.toMillis(maxRequestNanos.get()));
        System.out.flush();
        return 0;
    }

    private void progress() {
        System.out.println("PROGRESS atMs=" + System.currentTimeMillis() + " ok=" + ok.sum() + " failed=" + failed.sum());
        System.out.flush();
    }

    private void work(Requester.Factory factory, CountDownLatch ready, CountDownLatch go, long[] startNanos,
                      int requests, int durationMs) {
        Requester requester = null;
        String setupFailure = null;
        try {
            requester = factory.newRequester();
        } catch (Throwable t) {
            setupFailure = LoadRun.describe(t);
        }
        ready.countDown();
        try {
            go.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        long end = startNanos[0] + TimeUnit.MILLISECONDS.toNanos(durationMs);
        try {
            for (int i = 0; durationMs > 0 ? System.nanoTime() < end : i < requests; i++) {
                String reason;
                long before = System.nanoTime();
                if (setupFailure != null) {
                    reason = setupFailure;
                } else {
                    try {
                        reason = requester.get();
                    } catch (Throwable t) {
                        reason = LoadRun.describe(t);
                    }
                }
                maxRequestNanos.accumulateAndGet(System.nanoTime() - before, Math::max);
                if (reason == null) {
                    ok.increment();
                } else {
                    failed.increment();
                    reasons.computeIfAbsent(reason, k -> new LongAdder()).increment();
                    if (failuresShown.incrementAndGet() <= FAILURES_WITH_TIME) {
                        System.out.println("FAILAT atMs=" + System.currentTimeMillis() + " " + reason);
                    }
                }
            }
        } finally {
            if (requester != null) {
                requester.close();
            }
        }
    }

    private void printFailures() {
        List<Map.Entry<String, LongAdder>> sorted = new ArrayList<>(reasons.entrySet());
        sorted.sort(Comparator.comparingLong((Map.Entry<String, LongAdder> e) -> e.getValue().sum()).reversed()
                .thenComparing(Map.Entry::getKey));
        for (Map.Entry<String, LongAdder> e : sorted.subList(0, Math.min(10, sorted.size()))) {
            System.out.println("FAIL " + e.getValue().sum() + " " + e.getKey());
        }
    }
}

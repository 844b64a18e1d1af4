package io.connguard.testapps.leak;

import io.connguard.testapps.client.LoadRun;

import java.io.PrintStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.connguard.testapps.clients.ClientDriver;
import io.connguard.testapps.clients.Site;
import io.connguard.testapps.common.Args;

/**
 * An application that leaks a response of one client in one known place, or behaves well: drives
 * the client's {@link ClientDriver} ({@link ClientDriver.Setup#BOUNDED_POOL}: its pool bounded to
 * {@code --pool-max}) through one mode against a Harbor-like server. The leak itself is in the
 * driver's {@code leak} method, so a leak report's stack names the client's driver file.
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.leak.LeakScenario --client apache4 --port PORT --mode hold|drop|slow|clean
 * </pre>
 * The modes:
 * <ul>
 *   <li>{@code hold}: leaks one response (its body unread) but keeps a reference to it, holds it
 *       {@code --hold-ms}, then closes it and makes one normal request. With the agent: one
 *       {@code leak [age]} report naming the leaking line, then {@code leak [returned]}.</li>
 *   <li>{@code drop}: leaks {@code --leaks} responses from the same line and drops every reference,
 *       then makes {@code --after} normal requests while calling {@code System.gc()}. With the agent
 *       and a host limit equal to {@code --leaks}: {@code leak [garbage]} reports and the later
 *       requests succeed because the leaked connections are retired and their slots given back.
 *       Not for clients whose leaked connections never become garbage ({@code java.net.http}).</li>
 *   <li>{@code slow}: one well-behaved download whose body trickles in over {@code --slow-ms}. No report.</li>
 *   <li>{@code queue}: holds one response and makes a second request from another thread; with the
 *       agent, a limit of 1 and a short queue timeout, the second request fails with
 *       {@code ConnectionLimitException} ({@code QUEUED ...}); then the held response is closed and one
 *       normal request made ({@code AFTER ...}).</li>
 *   <li>{@code clean}: {@code --threads} threads doing everything right for {@code --seconds},
 *       pausing {@code --pause-ms} now and then and calling {@code System.gc()}. No report.</li>
 * </ul>
 * Output on stdout, one {@code KEY key=value ...} line each:
 * <pre>
 * LEAKAPP app=&lt;app&gt; mode=&lt;mode&gt;
 * LEAKSITE file=&lt;File.java&gt; line=&lt;n&gt; frame=&lt;frame&gt;     hold, drop: the line that leaks
 * HOLDING ms=&lt;n&gt; since=&lt;epoch ms&gt;  RELEASED heldMs=&lt;n&gt;  AFTER ok=&lt;n&gt; failed=&lt;n&gt;      hold
 * LEAKED count=&lt;n&gt;                                             drop
 * SLOW bytes=&lt;n&gt; expected=&lt;n&gt; ms=&lt;n&gt;                             slow
 * RESULT ok=&lt;n&gt; failed=&lt;n&gt; ms=&lt;n&gt;                                drop (the later requests), slow, clean
 * FAIL &lt;count&gt; &lt;reason&gt;                                         per distinct failure
 * JMX ... / JMXAGENT ... / JMXLEAK ... / JMXLEAKS ...                with --jmx (see LeakJmx)
 * LEAKAPP done
 * </pre>
 * Exit code 0 when the scenario ran (whatever its counts), 1 when it could not (e.g. the leaking
 * request itself failed), 2 for a bad command line.
 */
public final class LeakScenario {

    static final String PATH = "/v2/library/app/blobs/sha256:4a5b6c7d8e9f";

    private static final String OPTIONS = "--client url|jdk|apache4|wagon|apache5|okhttp --port PORT --mode hold|drop|slow|clean|queue [--host 127.0.0.1]"
            + " [--timeout-ms 15000] [--pool-max N (default --leaks, at least 2)] [--leak-bytes 1048576]"
            + " [--hold-ms 6000] [--linger-ms 1000]"
            + " [--leaks 3] [--after 5] [--gc-seconds 30]"
            + " [--slow-ms 4000] [--chunks 16] [--slow-bytes 65536]"
            + " [--seconds 8] [--threads 2] [--pause-ms 1500] [--jmx] [--help]";

    private final String app;
    private final PrintStream out = System.out;
    private final Map<String, Long> failures = new LinkedHashMap<>();

    private LeakScenario(String app) {
        this.app = app;
    }

    /** Parses the command line, runs the mode with the client's driver and exits. */
    public static void main(String[] argv) {
        // Apache HttpClient 5 logs through SLF4J; without a provider SLF4J warns on stderr, which
        // the tests read. Nothing to see there.
        System.setProperty("slf4j.internal.verbosity", "ERROR");
        String usage = "LeakScenario " + OPTIONS;
        Args args;
        String mode;
        ClientDriver driver;
        try {
            args = Args.parse(argv,
                    Set.of("client", "host", "port", "mode", "timeout-ms", "pool-max", "leak-bytes", "hold-ms", "linger-ms",
                            "leaks", "after", "gc-seconds", "slow-ms", "chunks", "slow-bytes", "seconds", "threads",
                            "pause-ms"),
                    Set.of("jmx", "help"));
            if (args.flag("help")) {
                System.out.println("usage: " + usage);
                System.out.println("Leaks a response in one known place (hold, drop) or behaves well (slow, clean);"
                        + " see io.connguard.testapps.leak.LeakScenario.");
                System.exit(0);
                return;
            }
            String client = args.required("client");
            if (!ClientDriver.NAMES.contains(client)) {
                throw new Args.UsageException("--client must be one of " + ClientDriver.NAMES + ", got '" + client + "'");
            }
            mode = args.required("mode");
            if (!Set.of("hold", "drop", "slow", "clean", "queue").contains(mode)) {
                throw new Args.UsageException("--mode must be hold, drop, slow, clean or queue, got '" + mode + "'");
            }
            args.requiredInteger("port", 1, 65535);
            int leaks = args.integer("leaks", 3, 1, 100);
            driver = ClientDriver.create(client, ClientDriver.Options.boundedPool(
                    args.integer("pool-max", Math.max(2, leaks), 1, 1000), args.integer("timeout-ms", 15_000, 100, 600_000)));
            if (mode.equals("drop") && !driver.leaksBecomeGarbage()) {
                throw new Args.UsageException("--mode drop is not for " + driver.agentName() + ": its leaked connections"
                        + " stay reachable from the client itself, so they never become garbage");
            }
        } catch (Args.UsageException e) {
            Args.exitWithUsage("LeakScenario", usage, e);
            return;
        }

        LeakScenario scenario = new LeakScenario(driver.getClass().getSimpleName());
        int exit = 0;
        try {
            scenario.run(mode, args, driver);
        } catch (Throwable t) {
            System.out.println("ERROR " + describe(t));
            t.printStackTrace();
            exit = 1;
        }
        System.out.println("LEAKAPP done");
        System.out.flush();
        System.exit(exit);
    }

    private void run(String mode, Args args, ClientDriver client) throws Exception {
        out.println("LEAKAPP app=" + app + " mode=" + mode);
        out.flush();
        URI base = URI.create("http://" + args.string("host", "127.0.0.1") + ":" + args.integer("port", 0, 1, 65535) + PATH);
        URI leakUri = URI.create(base + "?bytes=" + args.integer("leak-bytes", 1024 * 1024, 0, 64 * 1024 * 1024));
        boolean jmx = args.flag("jmx");
        try (client) {
            switch (mode) {
                case "hold" -> hold(client, leakUri, base, args.integer("hold-ms", 6_000, 0, 600_000),
                        args.integer("linger-ms", 1_000, 0, 60_000), jmx);
                case "drop" -> drop(client, leakUri, base, args.integer("leaks", 3, 1, 100),
                        args.integer("after", 5, 0, 1000), args.integer("gc-seconds", 30, 1, 600), jmx);
                case "slow" -> slow(client, base, args.integer("slow-ms", 4_000, 1, 600_000),
                        args.integer("chunks", 16, 2, 10_000), args.integer("slow-bytes", 64 * 1024, 1, 64 * 1024 * 1024), jmx);
                case "queue" -> queue(client, leakUri, base);
                case "clean" -> clean(client, base, args.integer("seconds", 8, 1, 3600), args.integer("threads", 2, 1, 64),
                        args.integer("pause-ms", 1_500, 0, 600_000), jmx);
                default -> throw new IllegalArgumentException(mode);
            }
        }
    }

    /** Leaks one response but keeps it; closes it after {@code holdMs}; then one normal request. */
    private void hold(ClientDriver client, URI leakUri, URI base, int holdMs, int lingerMs, boolean jmx) throws Exception {
        ClientDriver.Leak leak = client.leak(leakUri);
        long borrowed = System.nanoTime();
        long borrowedAt = System.currentTimeMillis();
        out.println(leak.site().describe());
        out.println("HOLDING ms=" + holdMs + " since=" + borrowedAt);
        out.flush();
        Thread.sleep(holdMs);
        if (jmx) {
            LeakJmx.print(out); // while the response is still held
        }
        client.release(leak.response());
        out.println("RELEASED heldMs=" + (System.nanoTime() - borrowed) / 1_000_000);
        out.flush();
        long ok = request(client, base) ? 1 : 0;
        out.println("AFTER ok=" + ok + " failed=" + (1 - ok));
        printFailures();
        out.flush();
        Thread.sleep(lingerMs); // time for the agent to log the return, if it does so asynchronously
    }

    /**
     * Holds one response (its connection borrowed) and makes a second request from another thread,
     * which needs a connection of its own: under a limit of 1 it waits the queue timeout and fails.
     * Prints {@code QUEUED ms=<waited> waiting=<still waiting> limit=<a ConnectionLimitException in the
     * chain> connect=<a ConnectException in the chain> class=<that exception, or the top one>
     * message=<its message>}, then closes the held response
     * and makes one normal request ({@code AFTER}).
     */
    private void queue(ClientDriver client, URI leakUri, URI base) throws Exception {
        ClientDriver.Leak held = client.leak(leakUri);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long start = System.nanoTime();
        Thread second = new Thread(() -> {
            try {
                client.fetch(base);
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "second-request");
        second.setDaemon(true);
        second.start();
        second.join(60_000);
        long waitedMs = (System.nanoTime() - start) / 1_000_000;
        Throwable top = failure.get();
        Throwable limit = null;
        boolean connect = false;
        for (Throwable t = top; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (limit == null && t.getClass().getName().equals("io.connguard.ConnectionLimitException")) {
                limit = t;
            }
            connect |= t instanceof java.net.ConnectException;
        }
        Throwable shown = limit != null ? limit : top;
        out.println("QUEUED ms=" + waitedMs + " waiting=" + second.isAlive() + " limit=" + (limit != null) + " connect=" + connect
                + " class=" + (shown == null ? "-" : shown.getClass().getName())
                + " message=" + (shown == null ? "-" : String.valueOf(shown.getMessage()).replace('\r', ' ').replace('\n', ' ')));
        out.flush();
        client.release(held.response());
        long ok = request(client, base) ? 1 : 0;
        out.println("AFTER ok=" + ok + " failed=" + (1 - ok));
        printFailures();
        out.flush();
    }

    /** Leaks {@code leaks} responses from one line and drops them; then {@code after} normal requests. */
    private void drop(ClientDriver client, URI leakUri, URI base, int leaks, int after, int gcSeconds, boolean jmx)
            throws Exception {
        Site site = null;
        for (int i = 0; i < leaks; i++) {
            site = leakAndDrop(client, leakUri);
        }
        out.println(site.describe());
        out.println("LEAKED count=" + leaks);
        out.flush();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        // The later requests need the leaked slots back; keep the collector busy until they are done.
        Thread collector = new Thread(() -> {
            long deadline = System.nanoTime() + gcSeconds * 1_000_000_000L;
            try {
                while (System.nanoTime() < deadline) {
                    System.gc();
                    Thread.sleep(200);
                }
            } catch (InterruptedException e) {
                // done
            }
        }, "leak-gc");
        collector.setDaemon(true);
        collector.start();
        long start = System.nanoTime();
        long ok = 0;
        for (int i = 0; i < after; i++) {
            if (request(client, base)) {
                ok++;
            }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        collector.interrupt();
        out.println("RESULT ok=" + ok + " failed=" + (after - ok) + " ms=" + ms);
        printFailures();
        out.flush();
        if (jmx) {
            LeakJmx.print(out);
        }
    }

    /**
     * One leak whose response is unreachable once this returns: only the site leaves this frame
     * (a reference left in a live local variable of a long-running frame would keep it alive).
     */
    private static Site leakAndDrop(ClientDriver client, URI uri) throws Exception {
        return client.leak(uri).site();
    }

    /** One well-behaved download whose body arrives in {@code chunks} pieces over {@code slowMs}. */
    private void slow(ClientDriver client, URI base, int slowMs, int chunks, int bytes, boolean jmx) throws Exception {
        URI uri = URI.create(base + "?bytes=" + bytes + "&slowBodyMs=" + slowMs + "&chunks=" + chunks);
        long start = System.nanoTime();
        long read = -1;
        try {
            read = client.fetch(uri);
        } catch (Exception e) {
            failed(e);
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        boolean ok = read == bytes;
        if (read >= 0 && !ok) {
            failures.merge("short body: " + read + " of " + bytes + " bytes", 1L, Long::sum);
        }
        out.println("SLOW bytes=" + read + " expected=" + bytes + " ms=" + ms);
        out.println("RESULT ok=" + (ok ? 1 : 0) + " failed=" + (ok ? 0 : 1) + " ms=" + ms);
        printFailures();
        out.flush();
        if (jmx) {
            LeakJmx.print(out);
        }
    }

    /** Everything right, from several threads, with pauses longer than a leak threshold between requests. */
    private void clean(ClientDriver client, URI base, int seconds, int threads, int pauseMs, boolean jmx) throws Exception {
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + seconds * 1_000_000_000L;
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread worker = new Thread(() -> {
                int n = 0;
                while (System.nanoTime() < deadline) {
                    if (request(client, base)) {
                        ok.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                    }
                    n++;
                    try {
                        if (n % 4 == id % 4) {
                            System.gc(); // closed responses that become garbage must not look leaked
                        }
                        if (n % 3 == 0) {
                            Thread.sleep(pauseMs); // the pooled connection sits idle, not borrowed
                        } else {
                            Thread.sleep(20);
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "clean-" + t);
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        out.println("RESULT ok=" + ok.get() + " failed=" + failed.get() + " ms=" + ms);
        printFailures();
        out.flush();
        if (jmx) {
            LeakJmx.print(out);
        }
    }

    /** One normal request; a failure is counted by its reason. */
    private boolean request(ClientDriver client, URI uri) {
        try {
            client.fetch(uri);
            return true;
        } catch (Exception e) {
            failed(e);
            return false;
        }
    }

    private synchronized void failed(Exception e) {
        failures.merge(describe(e), 1L, Long::sum);
    }

    private synchronized void printFailures() {
        failures.forEach((reason, count) -> out.println("FAIL " + count + " " + reason));
        failures.clear();
    }

    /** Exception class and first message line, with its cause; one line (as the load client says it). */
    static String describe(Throwable t) {
        return LoadRun.describe(t);
    }
}

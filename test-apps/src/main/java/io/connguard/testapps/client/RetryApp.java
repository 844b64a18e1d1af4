package io.connguard.testapps.client;

import java.lang.management.ManagementFactory;
import java.net.ConnectException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import io.connguard.testapps.clients.ClientDriver;
import io.connguard.testapps.common.Args;

/**
 * Makes requests that a server refuses, with one of the supported clients, and prints what the
 * caller got — for the retry tests, which run it with and without the agent.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.RetryApp \
 *      --client url|jdk|jdk-async|apache4|wagon|apache5|okhttp --url URL [--method GET|HEAD|POST|PUT]
 *      [--auth 'Bearer xyz'] [--threads 1] [--requests 1] [--timeoutMs 30000] [--jmx]
 * java ... RetryApp [--client K] --plan 'name=a|url=URL|method=GET;name=b|client=okhttp|url=URL|auth=...' [--jmx]
 * </pre>
 *
 * One client of each kind (and timeout) is made once ({@link ClientDriver}, {@link ClientDriver.Setup#DEFAULTS})
 * and shared by every thread and step, in its default configuration except for timeouts: {@code --timeoutMs} is the connect and read timeout
 * and, where the client has one, the request timeout ({@code HttpRequest.timeout}, OkHttp's
 * {@code callTimeout}, Apache's response and pool timeouts). POST and PUT send a small, repeatable
 * byte-array body.
 *
 * <p>A plan is a list of steps separated by {@code ;}, each a list of {@code key=value} fields
 * separated by {@code |}: {@code name}, {@code url} (required), {@code client}, {@code method},
 * {@code auth}, {@code threads}, {@code requests}, {@code timeoutMs} (default: the options). Steps run
 * one after the other. Without {@code --plan}, the options make one step named {@code main}.
 *
 * <p>Output, per step: {@code STEP name=.. client=.. method=..} when it starts (also
 * {@code retryapp: step <name> begin} on stderr, and {@code retryapp: step <name> end} when it ends,
 * so that the agent's log lines can be told apart by step), one line per request
 * <pre>
 * REQ step=a client=jdk status=503 bytes=93 ms=45 refusal=3 retryAfter=&lt;b64&gt; wwwAuth=&lt;b64&gt; body=&lt;b64&gt;
 * REQ step=a client=jdk ms=12 connect=true error=java.net.ConnectException: Connection refused
 * </pre>
 * (header values and the body in URL-safe base64 without padding, {@code -} when absent), then
 * {@code STEPRESULT name=.. ok=.. refused=.. errors=.. statuses={200=1,503=2} ms=..} and, with
 * {@code --jmx}, {@code STEPJMX name=.. host=.. port=.. Retries=.. RetriesExhausted=.. RetryBudgetExceeded=..}
 * (the step's host's ConnGuard MBean now; {@code -} for a missing attribute; {@code mbean=none} without one).
 * At the end {@code RESULT ok=.. refused=.. errors=.. statuses={..}} and with {@code --jmx} the
 * {@link JmxDump} lines. Exit code 0 whatever the answers were; 2 for a bad command line.
 */
public final class RetryApp {

    static final String USAGE = "RetryApp --client url|jdk|jdk-async|apache4|wagon|apache5|okhttp"
            + " (--url URL [--method GET|HEAD|POST|PUT] [--auth VALUE] | --plan STEPS)"
            + " [--threads 1] [--requests 1] [--timeoutMs 30000] [--jmx]";

    static final byte[] REQUEST_BODY = "connguard retry test payload: 0123456789abcdefghijklmnopqrstuvwxyz\n"
            .getBytes(StandardCharsets.UTF_8);

    private static final List<String> RETRY_ATTRIBUTES = List.of("Retries", "RetriesExhausted", "RetryBudgetExceeded");

    private final Map<String, ClientDriver> clients = new LinkedHashMap<>();
    private final Map<Integer, AtomicLong> totalStatuses = new TreeMap<>();
    private long totalOk;
    private long totalRefused;
    private long totalErrors;

    private RetryApp() {
    }

    record Step(String name, String client, String method, URI url, String auth, int threads, int requests, int timeoutMs) {
    }

    public static void main(String[] argv) throws Exception {
        // Apache HttpClient 5 logs through SLF4J; without a provider SLF4J warns on stderr. Nothing to see here.
        System.setProperty("slf4j.internal.verbosity", "ERROR");
        List<Step> steps;
        boolean jmx;
        try {
            Args args = Args.parse(argv,
                    Set.of("client", "url", "method", "auth", "threads", "requests", "timeoutMs", "plan"),
                    Set.of("jmx"));
            jmx = args.flag("jmx");
            String client = args.string("client", null);
            String method = args.string("method", "GET");
            String auth = args.string("auth", null);
            int threads = args.integer("threads", 1, 1, 1000);
            int requests = args.integer("requests", 1, 1, 100_000);
            int timeoutMs = args.integer("timeoutMs", 30_000, 1, 600_000);
            String plan = args.string("plan", null);
            if (plan == null) {
                if (client == null) {
                    throw new Args.UsageException("--client is required");
                }
                steps = List.of(new Step("main", client, method(method), url(args.required("url")), auth, threads, requests, timeoutMs));
            } else {
                steps = parsePlan(plan, client, method, auth, threads, requests, timeoutMs);
            }
            for (Step step : steps) {
                if (!ClientDriver.NAMES.contains(step.client())) {
                    throw new Args.UsageException("client must be one of " + ClientDriver.NAMES + ", got '" + step.client() + "'");
                }
            }
        } catch (Args.UsageException e) {
            Args.exitWithUsage("RetryApp", USAGE, e);
            return;
        }
        RetryApp app = new RetryApp();
        try {
            for (Step step : steps) {
                app.run(step, jmx);
            }
            System.out.println("RESULT ok=" + app.totalOk + " refused=" + app.totalRefused + " errors=" + app.totalErrors
                    + " statuses=" + statuses(app.totalStatuses));
            if (jmx) {
                JmxDump.print(System.out, agentAttached() ? 2_000 : 0);
            }
        } finally {
            app.clients.values().forEach(ClientDriver::close);
        }
        System.out.flush();
        System.exit(0);
    }

    static List<Step> parsePlan(String plan, String client, String method, String auth, int threads, int requests, int timeoutMs) {
        List<Step> steps = new ArrayList<>();
        for (String text : plan.split(";")) {
            if (text.isBlank()) {
                continue;
            }
            Map<String, String> fields = new LinkedHashMap<>();
            for (String field : text.split("\\|")) {
                int eq = field.indexOf('=');
                if (eq <= 0) {
                    throw new Args.UsageException("plan step field '" + field + "' is not key=value in '" + text + "'");
                }
                fields.put(field.substring(0, eq).trim(), field.substring(eq + 1));
            }
            String name = fields.getOrDefault("name", "step" + (steps.size() + 1));
            String kind = fields.getOrDefault("client", client);
            if (kind == null) {
                throw new Args.UsageException("plan step '" + name + "' names no client and there is no --client");
            }
            String url = fields.get("url");
            if (url == null) {
                throw new Args.UsageException("plan step '" + name + "' has no url");
            }
            steps.add(new Step(name, kind, method(fields.getOrDefault("method", method)), url(url),
                    fields.getOrDefault("auth", auth),
                    integer(fields, "threads", threads), integer(fields, "requests", requests), integer(fields, "timeoutMs", timeoutMs)));
        }
        if (steps.isEmpty()) {
            throw new Args.UsageException("--plan has no steps");
        }
        return steps;
    }

    private static int integer(Map<String, String> fields, String key, int fallback) {
        String value = fields.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            int parsed = Integer.parseInt(value.trim());
            if (parsed < 1) {
                throw new Args.UsageException(key + " must be at least 1, got " + value);
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new Args.UsageException(key + " must be an integer, got '" + value + "'");
        }
    }

    private static String method(String method) {
        String m = method.trim().toUpperCase(java.util.Locale.ROOT);
        if (!Set.of("GET", "HEAD", "POST", "PUT").contains(m)) {
            throw new Args.UsageException("method must be GET, HEAD, POST or PUT, got '" + method + "'");
        }
        return m;
    }

    private static URI url(String url) {
        return Target.parse(url).uri();
    }

    private ClientDriver client(String kind, int timeoutMs) {
        return clients.computeIfAbsent(kind + "@" + timeoutMs,
                k -> ClientDriver.create(kind, ClientDriver.Options.defaults(timeoutMs)));
    }

    private void run(Step step, boolean jmx) throws InterruptedException {
        ClientDriver client = client(step.client(), step.timeoutMs());
        byte[] body = "POST".equals(step.method()) || "PUT".equals(step.method()) ? REQUEST_BODY : null;
        System.out.println("STEP name=" + step.name() + " client=" + step.client() + " method=" + step.method());
        System.out.flush();
        System.err.println("retryapp: step " + step.name() + " begin");
        System.err.flush();

        Map<Integer, AtomicLong> statuses = new TreeMap<>();
        AtomicLong ok = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        long began = System.nanoTime();
        for (int t = 0; t < step.threads(); t++) {
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int r = 0; r < step.requests(); r++) {
                    long t0 = System.nanoTime();
                    String prefix = "REQ step=" + step.name() + " client=" + step.client();
                    String line;
                    try {
                        ClientDriver.Answer answer = client.send(step.method(), step.url(), step.auth(), body);
                        long ms = (System.nanoTime() - t0) / 1_000_000;
                        synchronized (statuses) {
                            statuses.computeIfAbsent(answer.status(), s -> new AtomicLong()).incrementAndGet();
                        }
                        (answer.status() / 100 == 2 ? ok : refused).incrementAndGet();
                        line = prefix + " status=" + answer.status() + " bytes=" + answer.body().length + " ms=" + ms
                                + " refusal=" + (answer.refusal() == null ? "-" : answer.refusal())
                                + " retryAfter=" + encode(answer.retryAfter())
                                + " wwwAuth=" + encode(answer.wwwAuthenticate())
                                + " body=" + encode(answer.body());
                    } catch (Throwable e) {
                        long ms = (System.nanoTime() - t0) / 1_000_000;
                        errors.incrementAndGet();
                        line = prefix + " ms=" + ms + " connect=" + isConnectFailure(e) + " error=" + LoadRun.describe(e);
                    }
                    synchronized (System.out) {
                        System.out.println(line);
                    }
                }
            }, "retry-" + step.name() + "-" + t);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        long ms = (System.nanoTime() - began) / 1_000_000;
        System.err.println("retryapp: step " + step.name() + " end");
        System.err.flush();
        System.out.println("STEPRESULT name=" + step.name() + " ok=" + ok + " refused=" + refused + " errors=" + errors
                + " statuses=" + statuses(statuses) + " ms=" + ms);
        if (jmx) {
            System.out.println("STEPJMX name=" + step.name() + " " + hostRetryCounters(step.url()));
        }
        System.out.flush();
        synchronized (this) {
            totalOk += ok.get();
            totalRefused += refused.get();
            totalErrors += errors.get();
            statuses.forEach((s, n) -> totalStatuses.computeIfAbsent(s, k -> new AtomicLong()).addAndGet(n.get()));
        }
    }

    private static boolean isConnectFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ConnectException) {
                return true;
            }
        }
        return false;
    }

    static String encode(String value) {
        return value == null ? "-" : encode(value.getBytes(StandardCharsets.UTF_8));
    }

    static String encode(byte[] value) {
        return value == null ? "-" : Base64.getUrlEncoder().withoutPadding().encodeToString(value);
    }

    private static String statuses(Map<Integer, AtomicLong> statuses) {
        StringBuilder sb = new StringBuilder("{");
        statuses.forEach((s, n) -> sb.append(sb.length() > 1 ? "," : "").append(s).append('=').append(n.get()));
        return sb.append('}').toString();
    }

    static boolean agentAttached() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .anyMatch(a -> a.startsWith("-javaagent:") && a.contains("connguard"));
    }

    /** The retry counters of ConnGuard's Host MBean for the URL's host:port, waiting up to 2 s for it to appear. */
    private static String hostRetryCounters(URI url) {
        String where = "host=" + url.getHost() + " port=" + url.getPort();
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            long deadline = System.nanoTime() + (agentAttached() ? 2_000_000_000L : 0);
            while (true) {
                for (ObjectName name : server.queryNames(new ObjectName("io.connguard:type=Host,*"), null)) {
                    String host = name.getKeyProperty("host");
                    if (host != null && host.startsWith("\"")) {
                        host = ObjectName.unquote(host);
                    }
                    if (url.getHost().equals(host) && String.valueOf(url.getPort()).equals(name.getKeyProperty("port"))) {
                        StringBuilder sb = new StringBuilder(where);
                        for (String attribute : RETRY_ATTRIBUTES) {
                            Object value;
                            try {
                                value = server.getAttribute(name, attribute);
                            } catch (Exception e) {
                                value = "-";
                            }
                            sb.append(' ').append(attribute).append('=').append(value);
                        }
                        return sb.toString();
                    }
                }
                if (System.nanoTime() > deadline) {
                    return where + " mbean=none";
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return where + " mbean=error";
        } catch (Exception e) {
            return where + " mbean=error " + LoadRun.describe(e).replaceAll("\\s+", "_");
        }
    }
}

package io.connguard.testapps.registry;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.connguard.testapps.client.JmxDump;
import io.connguard.testapps.common.Args;

/**
 * Pulls an image from a Docker Registry (HTTP API v2) the way a docker client does, with one HTTP
 * client of a chosen kind shared by all threads of this JVM:
 * <ol>
 *   <li>{@code GET /v2/} (the API version check; skip with {@code --no-ping});</li>
 *   <li>{@code GET /v2/<name>/manifests/<tag>} accepting the Docker schema 2 and OCI manifest
 *       types; its {@code Docker-Content-Digest}, when sent, must be the sha256 of the body;</li>
 *   <li>{@code GET /v2/<name>/blobs/<digest>} for the config and every layer the manifest names,
 *       each checked against its sha256 digest.</li>
 * </ol>
 * With {@code --user}/{@code --password} every request carries {@code Authorization: Basic ...}
 * from the start, as a docker client that already holds credentials (or a token) does. With
 * {@code --anonymous-flow} each pull first does what a client that does not know the registry's
 * authentication yet does: one {@code GET /v2/} without credentials, timed, which a registry with
 * authentication answers {@code 401} with a {@code WWW-Authenticate} challenge; then the pull
 * proper with the credentials, starting again with {@code GET /v2/}.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.registry.RegistryPull \
 *      --client url|jdk|jdk-async|apache4|apache5|okhttp --base http://127.0.0.1:PORT --image name:tag \
 *      [--user u --password p] [--pulls 1 (per thread)] [--threads 1] [--anonymous-flow] [--no-ping]
 *      [--deadline-ms 120000] [--jmx] [--go-file path]
 * </pre>
 * With {@code --go-file} the JVM warms its client up with one {@code GET /v2/}, prints
 * {@code READY warmup status=..}, and starts pulling only once that file exists, so that a test
 * can start the pulls of several JVMs at the same moment.
 * Prints one {@code PULL ok ...} or {@code PULL failed <reason>} line per pull, optionally
 * {@code ANON pull=<n> status=.. challenge=.. elapsedMs=..} per anonymous request, then
 * {@code FAIL <count> <reason>} per reason,
 * {@code RESULT client=.. pulls=.. ok=.. failed=.. requests=.. elapsedMs=..}, and with {@code --jmx}
 * the ConnGuard MBeans ({@link JmxDump}). Exit code 0 whatever the outcome; 2 for a bad command line.
 */
public final class RegistryPull {

    static final String USAGE = "RegistryPull --client " + String.join("|", RegistryHttp.KINDS)
            + " --base http://127.0.0.1:PORT --image name:tag [--user u --password p] [--pulls 1] [--threads 1]"
            + " [--anonymous-flow] [--no-ping] [--deadline-ms 120000] [--jmx] [--go-file path]";

    static final String MANIFEST_TYPES = "application/vnd.docker.distribution.manifest.v2+json, "
            + "application/vnd.oci.image.manifest.v1+json";

    private static final Pattern DIGEST = Pattern.compile("\"digest\"\\s*:\\s*\"(sha256:[0-9a-f]{64})\"");

    private final RegistryHttp http;
    private final String name;
    private final String tag;
    private final String authorization;
    private final boolean ping;
    private final AtomicLong requests = new AtomicLong();

    private RegistryPull(RegistryHttp http, String name, String tag, String authorization, boolean ping) {
        this.http = http;
        this.name = name;
        this.tag = tag;
        this.authorization = authorization;
        this.ping = ping;
    }

    /** Why a pull failed, short and without secrets: the step and the status or exception. */
    static final class PullFailure extends Exception {
        PullFailure(String reason) {
            super(reason, null, false, false);
        }
    }

    public static void main(String[] argv) throws Exception {
        String client;
        String base;
        String image;
        String user;
        String password;
        int pulls;
        int threads;
        int deadlineMs;
        boolean anonymousFlow;
        boolean ping;
        boolean jmx;
        String goFile;
        try {
            Args args = Args.parse(argv,
                    Set.of("client", "base", "image", "user", "password", "pulls", "threads", "deadline-ms", "go-file"),
                    Set.of("anonymous-flow", "no-ping", "jmx"));
            client = args.string("client", "url");
            base = args.required("base").replaceAll("/+$", "");
            image = args.required("image");
            user = args.string("user", null);
            password = args.string("password", null);
            if ((user == null) != (password == null)) {
                throw new Args.UsageException("--user and --password go together");
            }
            pulls = args.integer("pulls", 1, 1, 100_000);
            threads = args.integer("threads", 1, 1, 1024);
            deadlineMs = args.integer("deadline-ms", 120_000, 1, Integer.MAX_VALUE);
            anonymousFlow = args.flag("anonymous-flow");
            ping = !args.flag("no-ping");
            jmx = args.flag("jmx");
            goFile = args.string("go-file", null);
            if (!image.contains(":")) {
                throw new Args.UsageException("--image must be name:tag, got '" + image + "'");
            }
            List.of(RegistryHttp.KINDS).stream().filter(client::equals).findAny()
                    .orElseThrow(() -> new Args.UsageException("--client must be one of "
                            + String.join("|", RegistryHttp.KINDS)));
        } catch (Args.UsageException e) {
            Args.exitWithUsage("RegistryPull", USAGE, e);
            return;
        }
        String authorization = user == null ? null : "Basic " + Base64.getEncoder().encodeToString(
                (user + ":" + password).getBytes(StandardCharsets.UTF_8));
        int colon = image.lastIndexOf(':');
        try (RegistryHttp http = RegistryHttp.create(client, base, threads)) {
            RegistryPull puller = new RegistryPull(http, image.substring(0, colon), image.substring(colon + 1),
                    authorization, ping);
            if (goFile != null) {
                puller.warmUpAndWait(Paths.get(goFile), deadlineMs);
            }
            puller.run(client, pulls, threads, deadlineMs, anonymousFlow);
        }
        if (jmx) {
            JmxDump.print(System.out, 5_000);
        }
        System.out.flush();
        System.exit(0);
    }

    /**
     * For a storm that starts at the same moment in every JVM: one {@code GET /v2/} (with the
     * credentials, if any), so that the client's classes are loaded, then {@code READY} and a wait
     * until the file {@code go} exists. The warm-up request's outcome is printed, not counted.
     */
    private void warmUpAndWait(Path go, int deadlineMs) throws InterruptedException {
        String outcome;
        try {
            Map<String, String> headers = authorization == null ? Map.of() : Map.of("Authorization", authorization);
            outcome = "status=" + http.get("/v2/", headers).status;
        } catch (Exception e) {
            outcome = "error=" + describe(e).replace(' ', '_');
        }
        println("READY warmup " + outcome);
        System.out.flush();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadlineMs);
        while (!Files.exists(go) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    /** The anonymous first request of a client without credentials: one GET /v2/, timed. */
    private void anonymousPing(int pull) {
        long start = System.nanoTime();
        String line;
        try {
            RegistryHttp.Reply reply = http.get("/v2/", Map.of());
            requests.incrementAndGet();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            String challenge = reply.header("WWW-Authenticate");
            line = "ANON pull=" + pull + " status=" + reply.status + " challenge="
                    + (challenge == null ? "none" : challenge.replaceAll("\\s+", "_")) + " elapsedMs=" + ms;
        } catch (Exception e) {
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            line = "ANON pull=" + pull + " status=error challenge=none elapsedMs=" + ms + " error=" + describe(e);
        }
        println(line);
    }

    private void run(String client, int pullsPerThread, int threads, int deadlineMs, boolean anonymousFlow)
            throws InterruptedException {
        AtomicInteger pullNumber = new AtomicInteger();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        Map<String, AtomicInteger> reasons = new ConcurrentHashMap<>();
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread worker = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < pullsPerThread; i++) {
                        long start = System.nanoTime();
                        try {
                            if (anonymousFlow) {
                                anonymousPing(pullNumber.incrementAndGet());
                            }
                            int blobs = pullOnce();
                            ok.incrementAndGet();
                            println("PULL ok thread=" + id + " blobs=" + blobs + " ms="
                                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                        } catch (Exception e) {
                            String reason = e instanceof PullFailure ? e.getMessage() : "exception " + describe(e);
                            failed.incrementAndGet();
                            reasons.computeIfAbsent(reason, r -> new AtomicInteger()).incrementAndGet();
                            println("PULL failed " + reason);
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
        long start = System.nanoTime();
        go.countDown();
        boolean finished = done.await(deadlineMs, TimeUnit.MILLISECONDS);
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        int total = pullsPerThread * threads;
        int unfinished = total - ok.get() - failed.get();
        if (!finished && unfinished > 0) {
            reasons.computeIfAbsent("unfinished at the deadline", r -> new AtomicInteger()).addAndGet(unfinished);
        }
        synchronized (System.out) {
            new TreeMap<>(reasons).forEach((reason, count) -> System.out.println("FAIL " + count + " " + reason));
            System.out.println("RESULT client=" + client + " pulls=" + total + " ok=" + ok.get()
                    + " failed=" + (total - ok.get()) + " requests=" + requests.get() + " elapsedMs=" + elapsedMs);
            System.out.flush();
        }
    }

    /** One whole pull; returns the number of blobs fetched and verified. */
    private int pullOnce() throws Exception {
        if (ping) {
            expect200("ping", request("/v2/", Map.of()));
        }
        RegistryHttp.Reply manifest = request("/v2/" + name + "/manifests/" + tag, Map.of("Accept", MANIFEST_TYPES));
        expect200("manifest", manifest);
        String sent = manifest.header("Docker-Content-Digest");
        if (sent != null && !sent.equals(sha256(manifest.body))) {
            throw new PullFailure("manifest digest mismatch");
        }
        Set<String> digests = new LinkedHashSet<>();
        Matcher m = DIGEST.matcher(new String(manifest.body, StandardCharsets.UTF_8));
        while (m.find()) {
            digests.add(m.group(1));
        }
        if (digests.isEmpty()) {
            throw new PullFailure("manifest names no blobs");
        }
        for (String digest : digests) {
            RegistryHttp.Reply blob = request("/v2/" + name + "/blobs/" + digest, Map.of());
            expect200("blob", blob);
            if (!digest.equals(sha256(blob.body))) {
                throw new PullFailure("blob digest mismatch (" + blob.body.length + " bytes)");
            }
        }
        return digests.size();
    }

    private RegistryHttp.Reply request(String path, Map<String, String> headers) throws Exception {
        Map<String, String> all = new LinkedHashMap<>(headers);
        if (authorization != null) {
            all.put("Authorization", authorization);
        }
        requests.incrementAndGet();
        try {
            return http.get(path, all);
        } catch (Exception e) {
            String step = path.equals("/v2/") ? "ping" : path.contains("/manifests/") ? "manifest" : "blob";
            throw new PullFailure(step + " exception " + describe(e));
        }
    }

    private static void expect200(String step, RegistryHttp.Reply reply) throws PullFailure {
        if (reply.status != 200) {
            throw new PullFailure(step + " status " + reply.status);
        }
    }

    static String sha256(byte[] bytes) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        String text = e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
        return text.replaceAll("\\s+", " ");
    }

    private static void println(String line) {
        synchronized (System.out) {
            System.out.println(line);
        }
    }
}

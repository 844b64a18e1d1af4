package io.connguard.testapps.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.connguard.testapps.common.Processes;

/**
 * A private, real nginx (Debian's {@code nginx} package) on 127.0.0.1 serving blobs (its own static
 * files, or proxied to a registry: {@link Upstream}), for the storms against a server whose limit is
 * honest: {@code limit_conn} counted in a zone shared by
 * {@code worker_processes} workers, refused with 401 and no grace. Everything nginx writes lives in
 * one directory of its own (nothing under /etc, /var/log or /run); stopped by its PID.
 *
 * <p>The access log has one line per request:
 * {@code conn=<$connection> reqs=<$connection_requests> status=<$status> pid=<worker> uri=<uri>
 * puller=<X-Puller header> msec=<time>}, so a test or a benchmark can count the TCP connections the
 * server saw ({@code $connection} is a serial number nginx keeps in shared memory, unique across
 * workers), how many requests arrived on a connection that had served one before
 * ({@code $connection_requests > 1}), and, per puller ({@link #PULLER_HEADER}), how often its next
 * request came on the same connection as its previous one.
 */
public final class Nginx implements AutoCloseable {

    /** The request header a puller names itself with, so that the access log can follow its sequence. */
    public static final String PULLER_HEADER = "X-Puller";

    /** The blobs every storm pulls, in bytes: an image's config and layers, 48 to 512 KB. */
    public static final int[] BLOB_SIZES = {48 << 10, 64 << 10, 96 << 10, 128 << 10, 192 << 10, 256 << 10, 512 << 10};

    /**
     * @param workers   {@code worker_processes}
     * @param limitConn {@code limit_conn} for the whole server (requests in progress), refused with
     *                  {@code limit_conn_status 401}; 0: no limit
     * @param tls       HTTPS with {@code certificate} (PEM certificate and key); null for plain HTTP
     * @param upstream  where the blobs come from; null: nginx serves them itself from its directory
     */
    public record Config(int workers, int limitConn, Certificate tls, Upstream upstream) {

        /** nginx serving the blobs itself. */
        public Config(int workers, int limitConn, Certificate tls) {
            this(workers, limitConn, tls, null);
        }
    }

    /**
     * nginx in front of a registry: {@code /blobs/<i>} is proxied to {@code blobs.get(i)} (one URL per
     * entry of {@link #blobPaths()}), with {@code authorization} (null: none) as the request's
     * {@code Authorization} header. Behind a real {@code docker-registry} the storm at the cap gets
     * refusals from today's agent (46 of 1,296 in one run, as the issue saw), which nginx serving
     * static blobs never gives: a static request ends, and leaves {@code limit_conn}'s count, as
     * soon as its last bytes are in the socket, before the client has read them.
     */
    public record Upstream(List<String> blobs, String authorization) {
    }

    /**
     * The listening socket's send buffer ({@code listen ... sndbuf=}). With the kernel's default (up
     * to megabytes on loopback) nginx hands a whole blob to the kernel at once and ends the request
     * within microseconds, so {@code limit_conn} never sees more than one request per worker and
     * refuses nothing even to 48 threads without a cap. With 64 KB a request stays in progress until
     * the client has read most of its blob, as over a real network: 48 threads without the agent
     * get about half their GETs refused, 8 threads none. (Smaller buffers, or {@code sendfile} with
     * one, stall kept-alive connections for seconds: measured, 16 KB took 13-18 s where 64 KB took
     * 0.6 s. {@code limit_rate} does not help: nginx lets a response's first second of rate through
     * at once.)
     */
    public static final String SEND_BUFFER = "64k";

    /** A self-signed certificate for 127.0.0.1: PEM files for nginx, a PKCS12 trust store for the clients. */
    public record Certificate(Path certPem, Path keyPem, Path trustStore, String trustStorePassword) {

        /** The -D options that make a client JVM trust this certificate. */
        public List<String> clientProperties() {
            return List.of("-Djavax.net.ssl.trustStore=" + trustStore, "-Djavax.net.ssl.trustStorePassword="
                    + trustStorePassword, "-Djavax.net.ssl.trustStoreType=PKCS12");
        }
    }

    private final Path dir;
    private final Config config;
    private final int port;
    private final Process process;

    private Nginx(Path dir, Config config, int port, Process process) {
        this.dir = dir;
        this.config = config;
        this.port = port;
        this.process = process;
    }

    /** The nginx binary on the PATH (or in /usr/sbin), or null. */
    public static Path binary() {
        List<Path> candidates = new ArrayList<>();
        for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!p.isEmpty()) {
                candidates.add(Paths.get(p, "nginx"));
            }
        }
        candidates.add(Paths.get("/usr/sbin/nginx"));
        return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    /**
     * Makes a self-signed EC certificate for 127.0.0.1 in {@code dir} with {@code openssl} and a
     * trust store holding it with {@code keytool} (the one next to {@code java.home}'s java).
     */
    public static Certificate selfSigned(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path cert = dir.resolve("nginx-cert.pem");
        Path key = dir.resolve("nginx-key.pem");
        Path trust = dir.resolve("nginx-trust.p12");
        Files.deleteIfExists(trust);
        run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
        // nginx's workers (user nobody when started as root) never read the key: the master does.
        String password = "changeit";
        run(dir, Paths.get(System.getProperty("java.home"), "bin", "keytool").toString(), "-importcert", "-noprompt",
                "-alias", "nginx", "-file", cert.toString(), "-storetype", "PKCS12", "-keystore", trust.toString(),
                "-storepass", password);
        return new Certificate(cert, key, trust, password);
    }

    /** Starts nginx in {@code dir} (created; blobs written on first use) and waits until it listens. */
    public static Nginx start(Path dir, Config config) throws Exception {
        Path binary = binary();
        if (binary == null) {
            throw new IllegalStateException("nginx is not installed (Debian package nginx; .ci/run installs it)");
        }
        Files.createDirectories(dir.resolve("logs"));
        Files.createDirectories(dir.resolve("temp"));
        writeBlobs(dir.resolve("html/blobs"));
        // nginx's workers run as nobody when the master is root: they must reach the blobs.
        for (Path p : List.of(dir, dir.resolve("html"), dir.resolve("html/blobs"))) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        for (Path p = dir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                throw new IllegalStateException(p + " is closed to other users: nginx's workers could not read the"
                        + " blobs under it (every GET would be 403); start nginx in a directory others may enter");
            }
        }
        int port = freePort();
        Path confFile = dir.resolve("nginx.conf");
        Files.writeString(confFile, conf(dir, config, port));
        Files.deleteIfExists(dir.resolve("logs/access.log"));
        Process process = new ProcessBuilder(binary.toString(), "-p", dir + "/", "-e",
                dir.resolve("logs/error.log").toString(), "-c", confFile.toString(), "-g", "daemon off;")
                .redirectErrorStream(true).redirectOutput(dir.resolve("logs/stdout.log").toFile()).start();
        Nginx nginx = new Nginx(dir, config, port, process);
        try {
            nginx.awaitListening();
        } catch (Exception | Error e) {
            nginx.close();
            throw e;
        }
        return nginx;
    }

    private static String conf(Path dir, Config config, int port) {
        Path t = dir.resolve("temp");
        String limit = config.limitConn() <= 0 ? "" : String.join("\n",
                "    limit_conn storm " + config.limitConn() + ";",
                "    limit_conn_status 401;",
                "    limit_conn_log_level warn;");
        String tls = config.tls() == null ? "" : String.join("\n",
                "    ssl_certificate " + config.tls().certPem() + ";",
                "    ssl_certificate_key " + config.tls().keyPem() + ";");
        return String.join("\n",
                "worker_processes " + config.workers() + ";",
                "pid " + dir.resolve("nginx.pid") + ";",
                "error_log " + dir.resolve("logs/error.log") + " info;",
                "events { worker_connections 4096; }",
                "http {",
                "  client_body_temp_path " + t.resolve("client_body") + ";",
                "  proxy_temp_path " + t.resolve("proxy") + ";",
                "  fastcgi_temp_path " + t.resolve("fastcgi") + ";",
                "  uwsgi_temp_path " + t.resolve("uwsgi") + ";",
                "  scgi_temp_path " + t.resolve("scgi") + ";",
                "  log_format storm 'conn=$connection reqs=$connection_requests status=$status pid=$pid uri=$uri'"
                + " ' puller=$http_x_puller msec=$msec';",
                "  access_log " + dir.resolve("logs/access.log") + " storm;",
                "  keepalive_timeout 65s;",
                "  keepalive_requests 100000;",
                "  sendfile off;",
                "  limit_conn_zone $server_name zone=storm:1m;",
                "  server {",
                "    listen 127.0.0.1:" + port + " sndbuf=" + SEND_BUFFER + (config.tls() == null ? "" : " ssl") + ";",
                "    server_name connguard-nginx;",
                limit,
                tls,
                "    root " + dir.resolve("html") + ";",
                config.upstream() == null ? "    location /blobs/ { default_type application/octet-stream; }"
                        : proxied(config.upstream()),
                "  }",
                "}",
                "");
    }

    private static String proxied(Upstream upstream) {
        if (upstream.blobs().size() != BLOB_SIZES.length) {
            throw new IllegalArgumentException("an upstream needs " + BLOB_SIZES.length + " blob URLs, got "
                    + upstream.blobs().size());
        }
        StringBuilder locations = new StringBuilder();
        for (int i = 0; i < BLOB_SIZES.length; i++) {
            locations.append("    location = /blobs/").append(i).append(" {\n")
                    .append("      proxy_pass ").append(upstream.blobs().get(i)).append(";\n")
                    .append("      proxy_http_version 1.1;\n")
                    .append("      proxy_set_header Connection \"\";\n")
                    .append(upstream.authorization() == null ? ""
                            : "      proxy_set_header Authorization \"" + upstream.authorization() + "\";\n")
                    .append("      proxy_max_temp_file_size 0;\n")
                    .append("    }\n");
        }
        return locations.toString();
    }

    /** {@code blobs/0} .. {@code blobs/6}, sizes {@link #BLOB_SIZES}, random bytes (same every time). */
    private static void writeBlobs(Path blobs) throws IOException {
        Files.createDirectories(blobs);
        Random random = new Random(13);
        for (int i = 0; i < BLOB_SIZES.length; i++) {
            byte[] b = new byte[BLOB_SIZES[i]];
            random.nextBytes(b);
            Path file = blobs.resolve(String.valueOf(i));
            if (!Files.exists(file) || Files.size(file) != b.length) {
                Files.write(file, b);
            }
        }
    }

    /** The blob paths a puller fetches, in order: {@code /blobs/0} .. {@code /blobs/6}. */
    public static List<String> blobPaths() {
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < BLOB_SIZES.length; i++) {
            paths.add("/blobs/" + i);
        }
        return paths;
    }

    public int port() {
        return port;
    }

    public Config config() {
        return config;
    }

    public Path dir() {
        return dir;
    }

    /** {@code http(s)://127.0.0.1:<port>}. */
    public String base() {
        return (config.tls() == null ? "http" : "https") + "://127.0.0.1:" + port;
    }

    public Path accessLogFile() {
        return dir.resolve("logs/access.log");
    }

    public Path errorLogFile() {
        return dir.resolve("logs/error.log");
    }

    /**
     * The access log once it has stopped growing: nginx writes a request's line after the response
     * is sent, so the client can have exited a moment before the last lines are there.
     */
    public AccessLog accessLog() throws IOException, InterruptedException {
        Path log = accessLogFile();
        long size = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            long now = Files.exists(log) ? Files.size(log) : 0;
            if (now == size) {
                break;
            }
            size = now;
            Thread.sleep(200);
        }
        return AccessLog.parse(Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of());
    }

    /**
     * What the server saw of a storm.
     *
     * @param requests    requests logged
     * @param statuses    status → requests
     * @param connections distinct TCP connections ({@code $connection}) that carried a request
     * @param reused      requests that arrived on a connection which had carried one before
     *                    ({@code $connection_requests > 1})
     * @param followers   requests of a named puller that followed an earlier request of the same puller
     * @param kept        of those, the ones on the same connection as the puller's previous request
     */
    public record AccessLog(long requests, Map<Integer, Long> statuses, long connections, long reused, long followers,
                            long kept) {

        static AccessLog parse(List<String> lines) {
            Map<Integer, Long> statuses = new TreeMap<>();
            Set<String> connections = new HashSet<>();
            Map<String, List<String[]>> byPuller = new HashMap<>(); // puller -> [msec, conn] in log order
            long requests = 0;
            long reused = 0;
            for (String line : lines) {
                Map<String, String> kv = new HashMap<>();
                for (String token : line.trim().split("\\s+")) {
                    int eq = token.indexOf('=');
                    if (eq > 0) {
                        kv.put(token.substring(0, eq), token.substring(eq + 1));
                    }
                }
                if (!kv.containsKey("conn") || !kv.containsKey("status")) {
                    continue;
                }
                requests++;
                statuses.merge(Integer.parseInt(kv.get("status")), 1L, Long::sum);
                connections.add(kv.get("conn"));
                if (Long.parseLong(kv.getOrDefault("reqs", "1")) > 1) {
                    reused++;
                }
                String puller = kv.getOrDefault("puller", "-");
                if (!puller.equals("-") && !puller.isEmpty()) {
                    byPuller.computeIfAbsent(puller, p -> new ArrayList<>())
                            .add(new String[] {kv.getOrDefault("msec", "0"), kv.get("conn")});
                }
            }
            long followers = 0;
            long kept = 0;
            for (List<String[]> sequence : byPuller.values()) {
                // Two workers write the log: order each puller's requests by time (stable for equal times).
                sequence.sort(Comparator.comparingDouble(r -> Double.parseDouble(r[0])));
                for (int i = 1; i < sequence.size(); i++) {
                    followers++;
                    if (sequence.get(i)[1].equals(sequence.get(i - 1)[1])) {
                        kept++;
                    }
                }
            }
            return new AccessLog(requests, statuses, connections.size(), reused, followers, kept);
        }

        public long status(int status) {
            return statuses.getOrDefault(status, 0L);
        }

        /** Requests answered with anything but 200. */
        public long refused() {
            return requests - status(200);
        }

        /** The share of requests that arrived on a connection which had carried one before. */
        public double reusedShare() {
            return requests == 0 ? 0 : (double) reused / requests;
        }

        /** The share of a puller's requests (after its first) that came on its previous request's connection. */
        public double keptShare() {
            return followers == 0 ? 0 : (double) kept / followers;
        }

        /** {@code requests=.. connections=.. reused=.. kept=../.. statuses=200:..,401:..}, for messages. */
        public String describe() {
            return "requests=" + requests + " connections=" + connections + " reused=" + reused + " kept=" + kept
                    + "/" + followers + " statuses=" + statuses.entrySet().stream()
                    .map(e -> e.getKey() + ":" + e.getValue()).collect(Collectors.joining(","));
        }
    }

    /** SIGTERM to the master (nginx's fast shutdown of master and workers), then by force, by PID. */
    @Override
    public void close() {
        List<ProcessHandle> children = process.descendants().collect(Collectors.toList());
        Processes.stop(process, 5_000);
        for (ProcessHandle child : children) {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
    }

    /** Ends nginx at once, by PID: for a shutdown hook. */
    public void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    private void awaitListening() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        Path log = errorLogFile();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("nginx exited with " + process.exitValue() + " before listening on "
                        + port + "; " + log + ":\n" + (Files.exists(log) ? Files.readString(log) : "(none)")
                        + "\n" + Files.readString(dir.resolve("logs/stdout.log")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("nginx not listening on " + port + " after 15 s; " + log + ":\n"
                + (Files.exists(log) ? Files.readString(log) : "(none)"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void run(Path cwd, String... command) throws IOException, InterruptedException {
        Path log = cwd.resolve("tls-tools.log");
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", command));
        }
        if (p.exitValue() != 0) {
            throw new IOException("failed (" + p.exitValue() + "): " + String.join(" ", command) + "\n"
                    + Files.readString(log));
        }
    }
}

package io.connguard.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.connguard.testapps.common.Processes;

/**
 * A real Docker registry (Debian's {@code docker-registry}, the CNCF distribution registry 2.x)
 * on loopback with htpasswd (basic) authentication and filesystem storage in a temporary
 * directory, and nginx in front of it with {@code limit_conn}/{@code limit_conn_status}. Both are
 * started as child processes on free loopback ports with every path in the temporary directory
 * (nothing under /etc, /var/log or /run is written), and stopped by their PIDs.
 */
final class RegistryRig implements AutoCloseable {

    static final String REGISTRY_BINARY = "/usr/bin/docker-registry";
    static final String USER = "puller";
    static final String PASSWORD = "connguard-pw";
    /**
     * {@code puller:connguard-pw}, bcrypt cost 4 (the registry checks the hash on every request;
     * the usual cost 10-12 would make each request cost 60-250 ms of CPU on a small machine).
     * Made once with {@code python3 -c "import crypt; print(crypt.crypt('connguard-pw',
     * crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))"}.
     */
    static final String HTPASSWD = USER + ":$2b$04$462iZuCmIaS/hiCERE/z3ONeq0u0i6wrq6CFesrvVUqmcUX6qmucS";
    static final String REALM = "connguard-registry";

    private final Path dir;
    private final int registryPort;
    private Process registry;
    private Process nginx;
    private int nginxPort;
    private Path nginxDir;
    private int nginxGeneration;
    private int goFiles;
    private final Thread shutdownHook = new Thread(this::killNow, "registry-rig-cleanup");

    private RegistryRig(Path dir, int registryPort) {
        this.dir = dir;
        this.registryPort = registryPort;
    }

    /** The nginx binary on the PATH (or in /usr/sbin), or null. */
    static Path nginxBinary() {
        List<Path> candidates = new ArrayList<>();
        for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!p.isEmpty()) {
                candidates.add(Paths.get(p, "nginx"));
            }
        }
        candidates.add(Paths.get("/usr/sbin/nginx"));
        return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    static boolean registryInstalled() {
        return Files.isExecutable(Paths.get(REGISTRY_BINARY));
    }

    /** Starts the registry and waits until it answers. */
    static RegistryRig startRegistry() throws Exception {
        Path dir = Files.createTempDirectory("connguard-registry-it");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        RegistryRig rig = new RegistryRig(dir, freePort());
        Runtime.getRuntime().addShutdownHook(rig.shutdownHook);
        try {
            rig.launchRegistry();
        } catch (Exception | AssertionError e) {
            rig.close();
            throw e;
        }
        return rig;
    }

    private void launchRegistry() throws Exception {
        Files.createDirectories(dir.resolve("storage"));
        Files.writeString(dir.resolve("htpasswd"), HTPASSWD + "\n");
        Files.writeString(dir.resolve("registry.yml"), String.join("\n",
                "version: 0.1",
                "log:",
                "  level: info",
                "  accesslog:",
                "    disabled: false",
                "storage:",
                "  filesystem:",
                "    rootdirectory: " + dir.resolve("storage"),
                "  maintenance:",
                "    uploadpurging:",
                "      enabled: false",
                "http:",
                "  addr: 127.0.0.1:" + registryPort,
                "  secret: connguard-it-not-a-secret",
                "auth:",
                "  htpasswd:",
                "    realm: " + REALM,
                "    path: " + dir.resolve("htpasswd"),
                ""));
        registry = new ProcessBuilder(REGISTRY_BINARY, "serve", dir.resolve("registry.yml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
        awaitListening("docker-registry", registry, registryPort, dir.resolve("registry.log"));
    }

    /**
     * (Re)starts nginx in front of the registry on a fresh free port: {@code limit_conn} of
     * {@code limit} requests in progress for the whole server, refused with {@code status}, each
     * response sent at {@code rateLimit} (nginx's {@code limit_rate}, e.g. {@code 2m}; "0" = off) so
     * that downloads overlap. Logs go to a directory of their own per start.
     */
    void startNginx(int limit, int status, String rateLimit) throws Exception {
        stopNginx();
        nginxGeneration++;
        nginxDir = dir.resolve("nginx-" + nginxGeneration + "-" + status);
        Files.createDirectories(nginxDir.resolve("logs"));
        Files.createDirectories(nginxDir.resolve("temp"));
        Files.setPosixFilePermissions(nginxDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        nginxPort = freePort();
        Path t = nginxDir.resolve("temp");
        String conf = String.join("\n",
                "worker_processes 1;",
                "pid " + nginxDir.resolve("nginx.pid") + ";",
                "error_log " + nginxDir.resolve("logs/error.log") + " info;",
                "events { worker_connections 1024; }",
                "http {",
                "  client_body_temp_path " + t.resolve("client_body") + ";",
                "  proxy_temp_path " + t.resolve("proxy") + ";",
                "  fastcgi_temp_path " + t.resolve("fastcgi") + ";",
                "  uwsgi_temp_path " + t.resolve("uwsgi") + ";",
                "  scgi_temp_path " + t.resolve("scgi") + ";",
                "  log_format connguard '$status \"$request\" user=$remote_user rt=$request_time conn=$connection';",
                "  access_log " + nginxDir.resolve("logs/access.log") + " connguard;",
                "  keepalive_timeout 65s;",
                "  keepalive_requests 100000;",
                "  limit_conn_zone $server_name zone=registry:1m;",
                "  upstream registry {",
                "    server 127.0.0.1:" + registryPort + ";",
                "    keepalive 32;",
                "  }",
                "  server {",
                "    listen 127.0.0.1:" + nginxPort + ";",
                "    server_name connguard-registry;",
                "    client_max_body_size 0;",
                "    limit_conn registry " + limit + ";",
                "    limit_conn_status " + status + ";",
                "    limit_conn_log_level warn;",
                "    limit_rate " + rateLimit + ";",
                "    location / {",
                "      proxy_pass http://registry;",
                "      proxy_http_version 1.1;",
                "      proxy_set_header Connection \"\";",
                "      proxy_set_header Host $http_host;",
                "      proxy_max_temp_file_size 0;",
                "      proxy_read_timeout 120s;",
                "    }",
                "  }",
                "}",
                "");
        Path confFile = nginxDir.resolve("nginx.conf");
        Files.writeString(confFile, conf);
        Path binary = nginxBinary();
        nginx = new ProcessBuilder(binary.toString(), "-p", nginxDir + "/", "-e", nginxDir.resolve("logs/error.log").toString(),
                "-c", confFile.toString(), "-g", "daemon off;")
                .redirectErrorStream(true).redirectOutput(nginxDir.resolve("logs/stdout.log").toFile()).start();
        awaitListening("nginx", nginx, nginxPort, nginxDir.resolve("logs/error.log"));
    }

    void stopNginx() {
        if (nginx != null) {
            stop(nginx);
            nginx = null;
        }
    }

    /** A path in the rig's directory that does not exist yet: the "go" file of one storm. */
    Path newGoFile() {
        return dir.resolve("go-" + (++goFiles));
    }

    int registryPort() {
        return registryPort;
    }

    String registryBase() {
        return "http://127.0.0.1:" + registryPort;
    }

    int nginxPort() {
        return nginxPort;
    }

    String nginxBase() {
        return "http://127.0.0.1:" + nginxPort;
    }

    Path nginxDir() {
        return nginxDir;
    }

    /** The current nginx's access log: {@code <status> "<request line>" user=<basic user or -> rt=.. conn=..}. */
    List<String> accessLog() throws IOException {
        Path log = nginxDir.resolve("logs/access.log");
        return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    }

    List<String> errorLog() throws IOException {
        Path log = nginxDir.resolve("logs/error.log");
        return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    }

    /** Access-log lines with this status. */
    long accessCount(int status) throws IOException {
        return accessLog().stream().filter(l -> l.startsWith(status + " ")).count();
    }

    /** Keeps the nginx logs (and the registry's) next to the other IT logs, under this name. */
    void keepLogs(String name) {
        try {
            Path target = Artifacts.logDir().resolve(name);
            Files.createDirectories(target);
            if (nginxDir != null) {
                for (String f : List.of("access.log", "error.log", "stdout.log")) {
                    Path src = nginxDir.resolve("logs").resolve(f);
                    if (Files.exists(src)) {
                        Files.copy(src, target.resolve("nginx-" + f), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                Files.copy(nginxDir.resolve("nginx.conf"), target.resolve("nginx.conf"), StandardCopyOption.REPLACE_EXISTING);
            }
            Path registryLog = dir.resolve("registry.log");
            if (Files.exists(registryLog)) {
                Files.copy(registryLog, target.resolve("registry.log"), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            System.err.println("RegistryIT: cannot keep logs " + name + ": " + e);
        }
    }

    // ---- seeding through the registry API, from this (agent-less) JVM ----

    /** What was pushed: the manifest digest and the blobs' digests (config first). */
    record Image(String name, String tag, String manifestDigest, List<String> blobDigests, long bytes) {
        String reference() {
            return name + ":" + tag;
        }
    }

    /**
     * Pushes a config blob and {@code layers} random layers of 64-256 KB each (monolithic uploads:
     * {@code POST /v2/<name>/blobs/uploads/}, then {@code PUT <location>?digest=}), then a Docker
     * schema 2 manifest, straight to the registry with basic auth.
     */
    Image seed(String name, String tag, int layers, long seed) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        Random random = new Random(seed);
        List<byte[]> layerBlobs = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            byte[] b = new byte[64 * 1024 + random.nextInt(192 * 1024 + 1)];
            random.nextBytes(b);
            layerBlobs.add(b);
        }
        List<String> layerDigests = new ArrayList<>();
        for (byte[] b : layerBlobs) {
            layerDigests.add(sha256(b));
        }
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\","
                + "\"diff_ids\":[" + layerDigests.stream().map(d -> "\"" + d + "\"").collect(Collectors.joining(","))
                + "]}}").getBytes(StandardCharsets.UTF_8);
        List<String> blobs = new ArrayList<>();
        blobs.add(upload(client, name, config));
        long bytes = config.length;
        for (byte[] b : layerBlobs) {
            blobs.add(upload(client, name, b));
            bytes += b.length;
        }
        StringBuilder manifest = new StringBuilder("{\"schemaVersion\":2,"
                + "\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":"
                + config.length + ",\"digest\":\"" + blobs.get(0) + "\"},\"layers\":[");
        for (int i = 0; i < layerBlobs.size(); i++) {
            manifest.append(i == 0 ? "" : ",")
                    .append("{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":")
                    .append(layerBlobs.get(i).length).append(",\"digest\":\"").append(blobs.get(i + 1)).append("\"}");
        }
        manifest.append("]}");
        byte[] manifestBytes = manifest.toString().getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> put = client.send(authorized(URI.create(registryBase() + "/v2/" + name + "/manifests/" + tag))
                .header("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(manifestBytes)).build(), HttpResponse.BodyHandlers.ofString());
        if (put.statusCode() != 201) {
            throw new AssertionError("manifest PUT answered " + put.statusCode() + ": " + put.body());
        }
        String manifestDigest = sha256(manifestBytes);
        String sent = put.headers().firstValue("Docker-Content-Digest").orElse(manifestDigest);
        if (!sent.equals(manifestDigest)) {
            throw new AssertionError("registry says the manifest is " + sent + ", we computed " + manifestDigest);
        }
        return new Image(name, tag, manifestDigest, List.copyOf(blobs), bytes);
    }

    private String upload(HttpClient client, String name, byte[] blob) throws Exception {
        String digest = sha256(blob);
        HttpResponse<String> start = client.send(authorized(URI.create(registryBase() + "/v2/" + name + "/blobs/uploads/"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        if (start.statusCode() != 202) {
            throw new AssertionError("upload POST answered " + start.statusCode() + ": " + start.body());
        }
        String location = start.headers().firstValue("Location")
                .orElseThrow(() -> new AssertionError("upload POST without Location"));
        URI uri = URI.create(registryBase()).resolve(location);
        String put = uri + (uri.getRawQuery() == null ? "?" : "&") + "digest=" + digest;
        HttpResponse<String> done = client.send(authorized(URI.create(put))
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(blob)).build(), HttpResponse.BodyHandlers.ofString());
        if (done.statusCode() != 201) {
            throw new AssertionError("upload PUT answered " + done.statusCode() + ": " + done.body());
        }
        return digest;
    }

    private static HttpRequest.Builder authorized(URI uri) {
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).header("Authorization", "Basic "
                + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8)));
    }

    static String sha256(byte[] bytes) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    // ---- processes ----

    /** If the test JVM is stopped before {@link #close()}: at least end both servers, by PID. */
    private void killNow() {
        for (Process p : new Process[] {nginx, registry}) {
            if (p != null) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
        stopNginx();
        if (registry != null) {
            stop(registry);
            registry = null;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory; the OS cleans up eventually
        }
    }

    /** SIGTERM to the process (nginx: fast shutdown of master and workers), then by force, by PID. */
    private static void stop(Process process) {
        List<ProcessHandle> children = process.descendants().collect(Collectors.toList());
        Processes.stop(process, 5_000);
        for (ProcessHandle child : children) {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void awaitListening(String what, Process process, int port, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError(what + " exited with " + process.exitValue() + " before listening on "
                        + port + "; " + log + ":\n" + (Files.exists(log) ? Files.readString(log) : "(none)"));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError(what + " not listening on " + port + " after 15 s; " + log + ":\n"
                + (Files.exists(log) ? Files.readString(log) : "(none)"));
    }
}

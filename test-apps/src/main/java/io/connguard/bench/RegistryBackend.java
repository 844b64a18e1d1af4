package io.connguard.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import io.connguard.testapps.common.Processes;
import io.connguard.testapps.server.Nginx;

/**
 * Debian's {@code docker-registry} (distribution 2.x) for {@link NginxBench}: on a free loopback
 * port, filesystem storage in a directory of its own, no authentication; blobs pushed with
 * monolithic uploads, then served by digest behind nginx ({@link Nginx.Upstream}), as in the
 * issue's setup. (The ITs' RegistryRig does the same with htpasswd and manifests.) Stopped by its PID.
 */
final class RegistryBackend implements AutoCloseable {

    static final String BINARY = "/usr/bin/docker-registry";
    private static final String REPOSITORY = "connguard/bench";

    private final Process process;
    private final String base;

    private RegistryBackend(Process process, String base) {
        this.process = process;
        this.base = base;
    }

    static boolean installed() {
        return Files.isExecutable(Paths.get(BINARY));
    }

    static RegistryBackend start(Path dir) throws Exception {
        Files.createDirectories(dir.resolve("storage"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Files.writeString(dir.resolve("registry.yml"), String.join("\n",
                "version: 0.1",
                "log:",
                "  level: warn",
                "storage:",
                "  filesystem:",
                "    rootdirectory: " + dir.resolve("storage"),
                "  maintenance:",
                "    uploadpurging:",
                "      enabled: false",
                "http:",
                "  addr: 127.0.0.1:" + port,
                "  secret: connguard-bench-not-a-secret",
                ""));
        Process process = new ProcessBuilder(BINARY, "serve", dir.resolve("registry.yml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
        RegistryBackend registry = new RegistryBackend(process, "http://127.0.0.1:" + port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("docker-registry exited with " + process.exitValue() + ":\n"
                        + Files.readString(dir.resolve("registry.log")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return registry;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    registry.close();
                    throw new IllegalStateException("docker-registry not listening on " + port + " after 15 s");
                }
                Thread.sleep(50);
            }
        }
    }

    /** Pushes a random blob of each of {@link Nginx#BLOB_SIZES}; nginx proxies {@code /blobs/<i>} to them. */
    Nginx.Upstream pushBlobs() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        Random random = new Random(13);
        List<String> urls = new ArrayList<>();
        for (int size : Nginx.BLOB_SIZES) {
            byte[] blob = new byte[size];
            random.nextBytes(blob);
            String digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(blob));
            HttpResponse<String> start = client.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + REPOSITORY
                    + "/blobs/uploads/")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (start.statusCode() != 202) {
                throw new IllegalStateException("upload POST answered " + start.statusCode() + ": " + start.body());
            }
            URI location = URI.create(base).resolve(start.headers().firstValue("Location")
                    .orElseThrow(() -> new IllegalStateException("upload POST without Location")));
            HttpResponse<String> done = client.send(HttpRequest.newBuilder(URI.create(location
                    + (location.getRawQuery() == null ? "?" : "&") + "digest=" + digest))
                    .header("Content-Type", "application/octet-stream")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(blob)).build(), HttpResponse.BodyHandlers.ofString());
            if (done.statusCode() != 201) {
                throw new IllegalStateException("upload PUT answered " + done.statusCode() + ": " + done.body());
            }
            urls.add(base + "/v2/" + REPOSITORY + "/blobs/" + digest);
        }
        return new Nginx.Upstream(urls, null);
    }

    /** The registry process (for its CPU time). */
    ProcessHandle handle() {
        return process.toHandle();
    }

    @Override
    public void close() {
        Processes.stop(process, 5_000);
    }
}

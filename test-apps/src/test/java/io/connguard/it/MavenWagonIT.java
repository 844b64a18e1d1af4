package io.connguard.it;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real thing for relocated copies: Maven itself (the {@code mvn} on the PATH, whose HTTP
 * transport is wagon-http with Apache HttpClient 4 relocated under
 * {@code org.apache.maven.wagon.providers.http.httpclient}) run with the agent in
 * {@code MAVEN_OPTS}, resolving 13 artifacts (pom, jar, checksums) from a repository on loopback
 * with the agent's limit for it at 1. Maven resolves with several threads and keeps connections
 * in its pool (8 download threads here): the downloads can only all succeed in time if the agent reclaims the idle
 * connections of that relocated pool; a well-behaved Maven gets no leak report.
 */
class MavenWagonIT {

    private static final String GROUP = "io.connguard.probe";
    private static final int LIBRARIES = 12;

    private HttpServer server;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final AtomicInteger served = new AtomicInteger();
    private Path work;
    private final Path localGroup = Paths.get(System.getProperty("user.home"), ".m2", "repository",
            GROUP.replace('.', '/'));

    @BeforeEach
    void repository() throws Exception {
        work = Files.createTempDirectory("connguard-maven-it");
        List<String> deps = new ArrayList<>();
        for (int i = 0; i < LIBRARIES; i++) {
            publish("lib" + i, List.of());
            deps.add("lib" + i);
        }
        publish("app", deps);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(pool);
        server.createContext("/repo/", exchange -> {
            try (exchange) {
                byte[] body = files.get(exchange.getRequestURI().getPath().substring("/repo/".length()));
                if (body == null) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                served.incrementAndGet();
                boolean head = "HEAD".equals(exchange.getRequestMethod());
                exchange.sendResponseHeaders(200, head ? -1 : body.length);
                if (!head) {
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(body);
                    }
                }
            }
        });
        server.start();
        deleteLocalCopies();
    }

    @AfterEach
    void stop() throws IOException {
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
        deleteLocalCopies();
    }

    @Test
    void mavensRelocatedHttpClientIsGovernedAndItsIdleConnectionsReclaimed() throws Exception {
        // A project that depends on the probe artifacts, with our repository first; plugins at the
        // versions this build itself uses, so they are in the local repository already.
        Files.writeString(work.resolve("pom.xml"), "<project><modelVersion>4.0.0</modelVersion>"
                + "<groupId>" + GROUP + ".user</groupId><artifactId>user</artifactId><version>1.0</version>"
                + "<properties><maven.compiler.release>17</maven.compiler.release>"
                + "<project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>"
                + "<repositories><repository><id>probe</id><url>http://127.0.0.1:" + server.getAddress().getPort()
                + "/repo</url></repository></repositories>"
                + "<dependencies><dependency><groupId>" + GROUP + "</groupId><artifactId>app</artifactId>"
                + "<version>1.0</version></dependency></dependencies>"
                + "<build><plugins>"
                + "<plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>"
                + "<plugin><artifactId>maven-compiler-plugin</artifactId><version>3.14.0</version></plugin>"
                + "</plugins></build></project>");
        Path log = work.resolve("mvn.log");
        ProcessBuilder pb = new ProcessBuilder("mvn", "-B", "-ntp", "-Dmaven.artifact.threads=8", "compile")
                .directory(work.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("MAVEN_OPTS", "-javaagent:" + Artifacts.agentJar());
        env.put("CONNGUARD_HOST_LIMITS", "127.0.0.1=1");
        env.put("CONNGUARD_QUEUE_TIMEOUT", "20s");
        env.put("CONNGUARD_LEAK_THRESHOLD", "2s");
        env.put("CONNGUARD_LOG_LEVEL", "debug");
        Process p = pb.start();
        try {
            assertThat(p.waitFor(150, TimeUnit.SECONDS)).as("mvn finished").isTrue();
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        String out = Files.readString(log);
        Path kept = Paths.get("target", "it-logs", "MavenWagonIT-mvn.log");
        Files.createDirectories(kept.getParent());
        Files.writeString(kept, out);
        assertThat(p.exitValue()).as("mvn exit; log in %s", kept.toAbsolutePath()).isZero();
        assertThat(out).as("log in %s", kept.toAbsolutePath())
                .contains("BUILD SUCCESS")
                .contains("connguard: started")
                .contains("rewrote org.apache.maven.wagon.providers.http.httpclient.pool.AbstractConnPool")
                .contains("rewrote org.apache.maven.wagon.providers.http.httpclient.impl.conn.CPoolProxy")
                .doesNotContain("leak [")
                .doesNotContain("gave up after waiting");
        assertThat(served.get()).as("files served to Maven").isGreaterThanOrEqualTo(2 * (LIBRARIES + 1));
    }

    /** A pom, a jar and their SHA-1 files, as a repository holds them. */
    private void publish(String artifact, List<String> dependencies) throws Exception {
        StringBuilder deps = new StringBuilder();
        for (String d : dependencies) {
            deps.append("<dependency><groupId>").append(GROUP).append("</groupId><artifactId>").append(d)
                    .append("</artifactId><version>1.0</version></dependency>");
        }
        byte[] pom = ("<project><modelVersion>4.0.0</modelVersion><groupId>" + GROUP + "</groupId><artifactId>"
                + artifact + "</artifactId><version>1.0</version><dependencies>" + deps
                + "</dependencies></project>").getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream jar = new java.io.ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(jar)) {
            zip.putNextEntry(new ZipEntry("META-INF/MANIFEST.MF"));
            zip.write("Manifest-Version: 1.0\n".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("probe/" + artifact + ".txt"));
            zip.write(new byte[64 * 1024]);
            zip.closeEntry();
        }
        String base = GROUP.replace('.', '/') + "/" + artifact + "/1.0/" + artifact + "-1.0";
        put(base + ".pom", pom);
        put(base + ".jar", jar.toByteArray());
    }

    private void put(String path, byte[] body) throws Exception {
        files.put(path, body);
        byte[] sha1 = MessageDigest.getInstance("SHA-1").digest(body);
        files.put(path + ".sha1", HexFormat.of().formatHex(sha1).getBytes(StandardCharsets.US_ASCII));
    }

    private void deleteLocalCopies() throws IOException {
        if (Files.exists(localGroup)) {
            try (Stream<Path> all = Files.walk(localGroup)) {
                all.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}

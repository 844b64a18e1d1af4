package io.connguard.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The files the integration tests need: the agent jar, the runnable test-apps jar, the Spring Boot
 * app's executable jar, the log directory.
 * Failsafe passes their paths as system properties; the defaults work from the test-apps directory.
 *
 * <p>Child JVMs get a snapshot of each jar, copied once per test run into a private temporary
 * directory and checked to be a complete jar: a build running at the same time (another module,
 * another terminal) may rewrite {@code target/*.jar} in place, and a JVM whose jar changes under
 * it fails with {@code NoClassDefFoundError}.
 */
final class Artifacts {

    private static final Map<Path, Path> SNAPSHOTS = new LinkedHashMap<>();
    private static Path snapshotDir;

    private Artifacts() {
    }

    static Path basedir() {
        return Paths.get(System.getProperty("connguard.it.basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize();
    }

    /** {@code ../agent/target/connguard-agent.jar} relative to test-apps (a snapshot of it), or a clear failure. */
    static Path agentJar() {
        Path jar = Paths.get(System.getProperty("connguard.it.agentJar",
                basedir().resolve("../agent/target/connguard-agent.jar").toString())).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("The agent jar is missing: " + jar
                    + ". Build it first: mvn -B -DskipTests install (from the repository root).");
        }
        return snapshot(jar, "Premain-Class");
    }

    /** {@code target/connguard-test-apps.jar} (a snapshot): the apps and Jetty, the class path of every child JVM. */
    static Path appJar() {
        Path jar = Paths.get(System.getProperty("connguard.it.appJar",
                basedir().resolve("target/connguard-test-apps.jar").toString())).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("The test-apps jar is missing: " + jar
                    + ". The integration tests run after `package`; use mvn -B verify.");
        }
        return snapshot(jar, "Main-Class");
    }

    /**
     * {@code spring/target/connguard-test-apps-spring.jar} (a snapshot): the Spring Boot
     * application, as Boot's executable jar, for {@code java -jar}.
     */
    static Path springAppJar() {
        Path jar = Paths.get(System.getProperty("connguard.it.springAppJar",
                basedir().resolve("spring/target/connguard-test-apps-spring.jar").toString()))
                .toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("The Spring Boot test app jar is missing: " + jar
                    + ". It is built by the test-apps/spring module; use mvn -B verify from the repository root.");
        }
        return snapshot(jar, "Start-Class");
    }

    static Path logDir() {
        return basedir().resolve("target/it-logs");
    }

    /** "snapshot <- original" for each jar handed to child JVMs so far, for the logs. */
    static synchronized String describeSnapshots() {
        StringBuilder sb = new StringBuilder();
        SNAPSHOTS.forEach((original, copy) -> sb.append("# ").append(copy).append(" is a copy of ").append(original).append('\n'));
        return sb.toString();
    }

    private static synchronized Path snapshot(Path original, String requiredManifestAttribute) {
        Path existing = SNAPSHOTS.get(original);
        if (existing != null) {
            return existing;
        }
        AssertionError last = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                Path copy = snapshotDir().resolve(original.getFileName());
                Files.copy(original, copy, StandardCopyOption.REPLACE_EXISTING);
                try (JarFile jar = new JarFile(copy.toFile())) {
                    Manifest manifest = jar.getManifest();
                    if (manifest == null || manifest.getMainAttributes().getValue(requiredManifestAttribute) == null) {
                        throw new IOException("no " + requiredManifestAttribute + " in its manifest");
                    }
                    jar.stream().forEach(entry -> { });
                }
                SNAPSHOTS.put(original, copy);
                return copy;
            } catch (IOException | RuntimeException e) {
                last = new AssertionError("cannot take a consistent copy of " + original + " (being rebuilt?): " + e, e);
                sleep(1_000);
            }
        }
        throw last;
    }

    private static Path snapshotDir() throws IOException {
        if (snapshotDir == null) {
            snapshotDir = Files.createTempDirectory("connguard-it-");
            Path dir = snapshotDir;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(dir), "connguard-it-cleanup"));
        }
        return snapshotDir;
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temporary files; the OS cleans up eventually
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

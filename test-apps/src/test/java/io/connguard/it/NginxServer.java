package io.connguard.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import io.connguard.testapps.server.Nginx;

/**
 * A real nginx per test ({@link Nginx}: static blobs, {@code limit_conn} refused with 401 and no
 * grace, an access log of {@code $connection}, {@code $connection_requests} and {@code $status}),
 * started by the test with {@link #start} in a temporary directory of its own and stopped by its PID
 * after the test. When a test fails, prints the access log's summary and keeps nginx's logs and
 * configuration under {@code target/it-logs/<test>-nginx/}.
 * Register as {@code @RegisterExtension final NginxServer nginx = new NginxServer();}.
 *
 * <p>A missing nginx fails the test with the reason: {@code .ci/run} installs it.
 */
final class NginxServer implements BeforeEachCallback, AfterEachCallback, AfterAllCallback, TestWatcher {

    /** Made once per test JVM (openssl and keytool), shared by the classes that ask. */
    private static Nginx.Certificate certificate;

    private Path dir;
    private Nginx nginx;
    private String testName = "unnamed";
    private final Thread shutdownHook = new Thread(this::killNow, "nginx-it-cleanup");
    private boolean hooked;

    /** Starts nginx serving the blobs itself (see {@link #start(int, int, boolean, Nginx.Upstream)}). */
    Nginx start(int workers, int limitConn, boolean tls) throws Exception {
        return start(workers, limitConn, tls, null);
    }

    /**
     * Starts nginx with {@code workers} workers, {@code limitConn} (0: none), over TLS if {@code tls},
     * proxying the blobs to {@code upstream} (null: serving them itself).
     */
    Nginx start(int workers, int limitConn, boolean tls, Nginx.Upstream upstream) throws Exception {
        if (Nginx.binary() == null) {
            throw new AssertionError("nginx is not installed: the real-nginx storms need it (Debian package nginx;"
                    + " .ci/run installs it: apt-get install nginx)");
        }
        stop();
        deleteDir();
        dir = Files.createTempDirectory("connguard-nginx-it");
        // nginx's workers run as nobody when the master is root: they must get through to the blobs.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (!hooked) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
            hooked = true;
        }
        nginx = Nginx.start(dir.resolve("nginx"), new Nginx.Config(workers, limitConn, tls ? certificate() : null, upstream));
        return nginx;
    }

    /** The running nginx's access log, once it has stopped growing. */
    Nginx.AccessLog accessLog() throws Exception {
        return nginx.accessLog();
    }

    /** The -D options that make a client JVM trust the nginx certificate. */
    static List<String> clientTrust() {
        return certificate().clientProperties();
    }

    private static Nginx.Certificate certificate() {
        // Test classes run one at a time in this fork; a plain lazy field is enough.
        if (certificate == null) {
            try {
                certificate = Nginx.selfSigned(Artifacts.basedir().resolve("target/it-tls-nginx"));
            } catch (IOException | InterruptedException e) {
                throw new AssertionError("could not make the nginx test certificate with openssl and keytool: " + e, e);
            }
        }
        return certificate;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        testName = Jvms.testName(context);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        stop();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
        deleteDir();
        if (hooked) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
            hooked = false;
        }
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        // afterEach has stopped nginx; its files are still in dir.
        if (dir == null) {
            return;
        }
        Path target = Artifacts.logDir().resolve(testName + "-nginx");
        StringBuilder sb = new StringBuilder("\n##### nginx of the failed test ").append(testName);
        try {
            Files.createDirectories(target);
            Path nginxDir = dir.resolve("nginx");
            for (Path f : List.of(nginxDir.resolve("nginx.conf"), nginxDir.resolve("logs/access.log"),
                    nginxDir.resolve("logs/error.log"), nginxDir.resolve("logs/stdout.log"))) {
                if (Files.exists(f)) {
                    Files.copy(f, target.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            sb.append(": logs kept in ").append(target);
        } catch (IOException | RuntimeException e) {
            sb.append(": cannot keep its logs: ").append(e);
        }
        System.err.println(sb);
        deleteDir();
    }

    @Override
    public void testSuccessful(ExtensionContext context) {
        deleteDir();
    }

    private void stop() {
        if (nginx != null) {
            nginx.close();
            nginx = null;
        }
    }

    private void deleteDir() {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory; the OS cleans up eventually
        }
        dir = null;
    }

    private void killNow() {
        if (nginx != null) {
            nginx.kill();
        }
    }
}

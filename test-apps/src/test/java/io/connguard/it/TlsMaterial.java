package io.connguard.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away TLS identity for the Harbor-like server on 127.0.0.1, made with the JDK's own
 * {@code keytool} the first time a test asks for it: a PKCS12 key store for the server and a
 * trust store holding its certificate for the clients.
 */
final class TlsMaterial {

    static final String PASSWORD = "changeit";

    private static Path dir;

    private TlsMaterial() {
    }

    static Path keyStore() {
        return ensure().resolve("harbor.p12");
    }

    static Path trustStore() {
        return ensure().resolve("clients-trust.p12");
    }

    /** The -D options that make a client JVM trust the server. */
    static String[] clientProperties() {
        return new String[] {"-Djavax.net.ssl.trustStore=" + trustStore(),
                "-Djavax.net.ssl.trustStorePassword=" + PASSWORD, "-Djavax.net.ssl.trustStoreType=PKCS12"};
    }

    private static Path ensure() {
        // Test classes run one at a time in this fork; a plain lazy field is enough.
        if (dir != null) {
            return dir;
        }
        Path target = Artifacts.basedir().resolve("target/it-tls");
        try {
            Files.createDirectories(target);
            Files.deleteIfExists(target.resolve("harbor.p12"));
            Files.deleteIfExists(target.resolve("harbor.cer"));
            Files.deleteIfExists(target.resolve("clients-trust.p12"));
            keytool(target, "-genkeypair", "-alias", "harbor", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2",
                    "-storetype", "PKCS12", "-keystore", "harbor.p12", "-storepass", PASSWORD, "-keypass", PASSWORD);
            keytool(target, "-exportcert", "-alias", "harbor", "-keystore", "harbor.p12", "-storepass", PASSWORD,
                    "-file", "harbor.cer");
            keytool(target, "-importcert", "-noprompt", "-alias", "harbor", "-file", "harbor.cer",
                    "-storetype", "PKCS12", "-keystore", "clients-trust.p12", "-storepass", PASSWORD);
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("could not make the test TLS key store with keytool: " + e, e);
        }
        dir = target;
        return dir;
    }

    private static void keytool(Path cwd, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Jdks.java(Runtime.version().feature()).resolveSibling("keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(cwd.resolve("keytool.log").toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("keytool timed out: " + command);
        }
        if (p.exitValue() != 0) {
            throw new IOException("keytool failed (" + p.exitValue() + "): " + command + "\n"
                    + Files.readString(cwd.resolve("keytool.log")));
        }
    }
}

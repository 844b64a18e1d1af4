package io.connguard.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The files the integration tests need: the agent jar, the runnable test-apps jar, the log directory.
 * Failsafe passes their paths as system properties; the defaults work from the test-apps directory.
 */
final class Artifacts {

    private Artifacts() {
    }

    static Path basedir() {
        return Paths.get(System.getProperty("connguard.it.basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize();
    }

    /** {@code ../agent/target/connguard-agent.jar} relative to test-apps, or a clear failure. */
    static Path agentJar() {
        Path jar = Paths.get(System.getProperty("connguard.it.agentJar",
                basedir().resolve("../agent/target/connguard-agent.jar").toString())).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("The agent jar is missing: " + jar
                    + ". Build it first: mvn -B -DskipTests install (from the repository root).");
        }
        return jar;
    }

    /** {@code target/connguard-test-apps.jar}: the apps and Jetty, the classpath of every child JVM. */
    static Path appJar() {
        Path jar = Paths.get(System.getProperty("connguard.it.appJar",
                basedir().resolve("target/connguard-test-apps.jar").toString())).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("The test-apps jar is missing: " + jar
                    + ". The integration tests run after `package`; use mvn -B verify.");
        }
        return jar;
    }

    static Path logDir() {
        return basedir().resolve("target/it-logs");
    }
}

package io.connguard.it;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaging contract: one shaded jar with a fixed name, nothing in it outside our own package
 * and the relocated dependencies (so it can never clash with the application's Byte Buddy, ASM or
 * SLF4J), the agent manifest, and the bootstrap jar embedded whole.
 */
class AgentJarIT {

    @Test
    void holdsNothingButOurPackageAndRelocatedDependencies() throws Exception {
        Path jar = Artifacts.agentJar();
        assertThat(jar.getFileName().toString()).isEqualTo("connguard-agent.jar");
        List<String> strays = new ArrayList<>();
        int shaded = 0;
        try (JarFile file = new JarFile(jar.toFile())) {
            for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (name.endsWith("/")) {
                    continue;
                }
                if (name.startsWith("io/connguard/shaded/")) {
                    shaded++;
                } else if (!name.startsWith("io/connguard/agent/")
                        && !name.equals("META-INF/MANIFEST.MF")
                        && !name.equals("META-INF/connguard/connguard-bootstrap.jar")
                        && !name.startsWith("META-INF/services/io.connguard.shaded.")) {
                    strays.add(name);
                }
            }
        }
        assertThat(strays).as("entries outside io/connguard/agent and io/connguard/shaded").isEmpty();
        assertThat(shaded).as("Byte Buddy and SLF4J are relocated, not dropped").isGreaterThan(1000);
    }

    @Test
    void servicesNameOnlyRelocatedProviders() throws Exception {
        try (JarFile file = new JarFile(Artifacts.agentJar().toFile())) {
            for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) {
                JarEntry entry = e.nextElement();
                if (entry.getName().startsWith("META-INF/services/") && !entry.isDirectory()) {
                    try (InputStream in = file.getInputStream(entry)) {
                        String text = new String(in.readAllBytes());
                        for (String line : text.split("\n")) {
                            String provider = line.trim();
                            if (!provider.isEmpty() && !provider.startsWith("#")) {
                                assertThat(provider).startsWith("io.connguard.shaded.");
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void hasTheAgentManifest() throws Exception {
        try (JarFile file = new JarFile(Artifacts.agentJar().toFile())) {
            Attributes main = file.getManifest().getMainAttributes();
            assertThat(main.getValue("Premain-Class")).isEqualTo("io.connguard.agent.ConnGuardAgent");
            assertThat(main.getValue("Agent-Class")).isEqualTo("io.connguard.agent.ConnGuardAgent");
            assertThat(main.getValue("Can-Retransform-Classes")).isEqualTo("true");
        }
    }

    @Test
    void embedsTheBootstrapClassesOnlyAsAJar() throws Exception {
        List<String> classes = new ArrayList<>();
        try (JarFile file = new JarFile(Artifacts.agentJar().toFile())) {
            assertThat(file.getEntry("io/connguard/ConnectionLimitException.class"))
                    .as("bootstrap classes must not be loadable from the agent jar itself").isNull();
            try (JarInputStream nested = new JarInputStream(
                    file.getInputStream(file.getEntry("META-INF/connguard/connguard-bootstrap.jar")))) {
                for (JarEntry e = nested.getNextJarEntry(); e != null; e = nested.getNextJarEntry()) {
                    if (e.getName().endsWith(".class")) {
                        classes.add(e.getName());
                    }
                }
            }
        }
        assertThat(classes).contains("io/connguard/ConnectionLimitException.class",
                "io/connguard/bootstrap/ConnGuardHooks.class", "io/connguard/bootstrap/HookHandler.class");
        assertThat(classes).allMatch(n -> n.startsWith("io/connguard/"));
        assertThat(Files.size(Artifacts.agentJar())).isLessThan(20L * 1024 * 1024);
    }
}

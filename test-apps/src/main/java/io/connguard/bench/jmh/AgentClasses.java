package io.connguard.bench.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * For benchmarks that build the agent's core themselves ({@link FleetHookPathBenchmark}): the
 * agent's classes are not in the test-apps jar, so a benchmark reaches them through an interface
 * of its own, implemented by a class that is loaded next to the agent jar. If the agent's classes
 * are on the class path already, the implementation is loaded from there; otherwise from a class
 * loader over the agent jar ({@code -Dconnguard.agent.jar=<path>} in the fork, e.g. JMH's
 * {@code -jvmArgsAppend}, default {@code agent/target/connguard-agent.jar} relative to the
 * working directory, as {@link ConnGuardAgentProfiler} finds it) that defines the implementation
 * class (and its nested classes) itself and takes everything else from the class path first.
 */
final class AgentClasses {

    private static final String PROBE = "io.connguard.agent.core.Governor";

    private AgentClasses() {
    }

    /** A new {@code impl} (public, with a public no-argument constructor) as a {@code type}. */
    static <T> T newInstance(String impl, Class<T> type) throws Exception {
        ClassLoader parent = type.getClassLoader();
        ClassLoader loader;
        try {
            Class.forName(PROBE, false, parent);
            loader = parent;
        } catch (ClassNotFoundException e) {
            Path jar = Paths.get(System.getProperty(ConnGuardAgentProfiler.JAR_PROPERTY,
                    ConnGuardAgentProfiler.DEFAULT_JAR)).toAbsolutePath().normalize();
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException("the agent's classes are neither on the class path nor in " + jar
                        + ": build it with `mvn -B -q install -DskipTests`, run from the project root, or pass"
                        + " -jvmArgsAppend -D" + ConnGuardAgentProfiler.JAR_PROPERTY + "=<path to connguard-agent.jar>");
            }
            loader = new Loader(jar.toUri().toURL(), impl, parent);
            Class.forName(PROBE, false, loader);
        }
        return type.cast(Class.forName(impl, true, loader).getConstructor().newInstance());
    }

    /** Defines {@code impl} and its nested classes itself; everything else parent first, then the agent jar. */
    private static final class Loader extends URLClassLoader {
        private final String impl;

        Loader(URL agentJar, String impl, ClassLoader parent) {
            super(new URL[] {agentJar}, parent);
            this.impl = impl;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.equals(impl) && !name.startsWith(impl + "$")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
                        if (in == null) {
                            throw new ClassNotFoundException(name);
                        }
                        byte[] b = in.readAllBytes();
                        c = defineClass(name, b, 0, b.length);
                    } catch (IOException e) {
                        throw new ClassNotFoundException(name, e);
                    }
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }
    }
}

package io.connguard.agent;

import io.connguard.agent.config.AgentConfig;
import io.connguard.agent.log.AgentLog;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.jar.JarFile;

/**
 * The agent's entry point ({@code Premain-Class} and {@code Agent-Class}).
 *
 * <p>Start-up order, and why:
 * <ol>
 *   <li>Read the settings (environment and system properties only). A bad value is one clear
 *       line and its default; with {@code CONNGUARD_STRICT=true} the agent installs nothing.
 *       {@code CONNGUARD_ENABLED=false} installs nothing.</li>
 *   <li>Append the embedded bootstrap jar (the hooks and {@code ConnectionLimitException}) to the
 *       bootstrap class path: rewritten JDK classes can only see classes there. Nothing may load
 *       {@code io.connguard.bootstrap} classes before this.</li>
 *   <li>Give {@code java.base} and {@code java.net.http} a read edge to the hooks' module, and
 *       open the JDK pool packages to the agent so it can find the socket behind a pooled
 *       connection.</li>
 *   <li>Install the hook handler, then rewrite the classes. From here on connects are governed.</li>
 * </ol>
 * Deferred until the application makes its first outgoing connection: the JMX MBeans (so an
 * application or container that configures JMX or {@code java.util.logging} does it first) and
 * the leak reaper thread. Nothing here resolves DNS or touches application classes. The only
 * logging in premain is the agent's own relocated SLF4J writing to stderr.
 */
public final class ConnGuardAgent {

    static final String BOOTSTRAP_JAR = "/META-INF/connguard/connguard-bootstrap.jar";

    private ConnGuardAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(inst, false);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(inst, true);
    }

    private static void start(Instrumentation inst, boolean late) {
        try {
            AgentConfig config = AgentConfig.fromEnvironment();
            AgentLog.setLevel(config.logLevel());
            for (String problem : config.problems()) {
                AgentLog.error("connguard: " + problem);
            }
            if (config.hasProblems() && config.strict()) {
                AgentLog.error("connguard: not starting: CONNGUARD_STRICT=true and the settings above are invalid;"
                        + " the application runs without ConnGuard. Fix them or set CONNGUARD_STRICT=false.");
                return;
            }
            if (!config.enabled()) {
                AgentLog.info("connguard: disabled by CONNGUARD_ENABLED=false; nothing installed");
                return;
            }
            if (bootstrapAlreadyLoaded()) {
                AgentLog.warn("connguard: already running in this JVM; the second start was refused");
                return;
            }
            long t0 = System.nanoTime();
            appendBootstrapJar(inst);
            // Only now may classes that name the bootstrap types be loaded: the verifier resolves
            // them (HookBridge extends HookHandler), so they live in AgentInstaller, not here.
            AgentInstaller.install(inst, config, late, t0);
        } catch (Throwable t) {
            // Fail open: whatever went wrong, the application starts as if the agent were absent.
            AgentLog.error("connguard: failed to start; the application runs without ConnGuard: " + t, t);
        }
    }

    private static boolean bootstrapAlreadyLoaded() {
        try {
            Class.forName("io.connguard.bootstrap.ConnGuardHooks", false, null);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /**
     * Copies the embedded bootstrap jar to a private temporary file (created with owner-only
     * permissions, unique per JVM, so nobody can plant classes into the bootstrap path through a
     * predictable name) and appends it. The JVM opens the file lazily, so it is kept until exit.
     */
    private static void appendBootstrapJar(Instrumentation inst) throws IOException {
        Path jar = Files.createTempFile("connguard-bootstrap-", ".jar");
        jar.toFile().deleteOnExit();
        try (InputStream in = ConnGuardAgent.class.getResourceAsStream(BOOTSTRAP_JAR)) {
            if (in == null) {
                throw new IOException(BOOTSTRAP_JAR + " is missing from the agent jar");
            }
            Files.copy(in, jar, StandardCopyOption.REPLACE_EXISTING);
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(jar.toFile()));
    }

    static String version() {
        String v = ConnGuardAgent.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}

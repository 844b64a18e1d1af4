package io.connguard.agent;

import io.connguard.agent.config.AgentArguments;
import io.connguard.agent.config.AgentConfig;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
 * logging in premain is the agent's own relocated SLF4J writing to stderr, or with
 * {@code CONNGUARD_LOG_FILE}/{@code CONNGUARD_LOG_FORMAT} the agent's own line writer; either is
 * set up by the first line logged, not before.
 *
 * <p>Once installed, the agent sets the system property {@link #VERSION_PROPERTY} (and
 * {@link #START_PROPERTY}: {@code premain} or {@code attach}), which the command line tool reads
 * through the Attach API to tell a JVM with the agent from one without, and to refuse a second
 * attach before loading anything. A late attach ({@code agentmain}) also leaves its outcome in
 * {@link #ATTACH_RESULT_PROPERTY}, because the attaching tool cannot see the target's stderr.
 */
public final class ConnGuardAgent {

    static final String BOOTSTRAP_JAR = "/META-INF/connguard/connguard-bootstrap.jar";
    /** Outside the {@code connguard.} prefix, so settings validation never takes it for a setting. */
    public static final String VERSION_PROPERTY = "io.connguard.agent.version";
    public static final String START_PROPERTY = "io.connguard.agent.start";
    public static final String ATTACH_RESULT_PROPERTY = "io.connguard.agent.attach.result";
    /** The value of {@link #ATTACH_RESULT_PROPERTY} after a late start that installed the agent. */
    public static final String STARTED = "started";

    private ConnGuardAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(inst, null);
    }

    /**
     * A late attach; {@code args} holds the settings given to {@code attach}, one
     * {@code name=value} per line ({@link AgentArguments}), which win over the JVM's own.
     */
    public static void agentmain(String args, Instrumentation inst) {
        String result = start(inst, AgentArguments.decode(args));
        System.setProperty(ATTACH_RESULT_PROPERTY, result);
    }

    /** Starts the agent; {@code attachSettings} is null in premain. Returns {@link #STARTED} or why not. */
    private static String start(Instrumentation inst, AgentArguments attachSettings) {
        boolean late = attachSettings != null;
        try {
            AgentConfig config = late ? AgentConfig.fromEnvironment(attachSettings) : AgentConfig.fromEnvironment();
            AgentLog.configure(config.logLevel(), config.logFile(), config.logFormat());
            if (late) {
                for (String problem : attachSettings.problems()) {
                    AgentLog.error(Sentences.settingProblem(problem));
                }
            }
            for (String problem : config.problems()) {
                AgentLog.error(Sentences.settingProblem(problem));
            }
            if (config.hasProblems() && config.strict()) {
                AgentLog.error(Sentences.strictRefusal());
                return Sentences.strictRefusalResult(config.problems());
            }
            if (!config.enabled()) {
                // DEBUG, not INFO: a disabled agent should cost nothing, and setting up logging costs tens of ms.
                AgentLog.debug(Sentences.disabled());
                return Sentences.disabledResult();
            }
            if (bootstrapAlreadyLoaded()) {
                AgentLog.warn(Sentences.alreadyRunning());
                return Sentences.alreadyRunningResult();
            }
            long t0 = System.nanoTime();
            appendBootstrapJar(inst);
            // Only now may classes that name the bootstrap types be loaded: the verifier resolves
            // them (HookBridge extends HookHandler), so they live in AgentInstaller, not here.
            if (!AgentInstaller.install(inst, config, late, t0)) {
                return Sentences.alreadyRunningResult();
            }
            System.setProperty(START_PROPERTY, late ? "attach" : "premain");
            System.setProperty(VERSION_PROPERTY, version());
            return STARTED;
        } catch (Throwable t) {
            // Fail open: whatever went wrong, the application starts as if the agent were absent.
            AgentLog.error(Sentences.startFailed(t), t);
            return "failed: " + t;
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
     * Copies the embedded bootstrap jar to a new file in the temporary directory and appends it.
     * The file is created exclusively (CREATE_NEW) with owner-only permissions, so nobody can plant
     * classes into the bootstrap path through its name; the JVM opens it lazily, so it is kept until
     * exit. Not {@code Files.createTempFile}: its name generator initialises {@code SecureRandom}
     * and with it the whole security provider set-up, which costs start-up time and (JDK 25) loads
     * {@code sun.nio.ch.SocketChannelImpl} before we can rewrite it on load.
     */
    private static void appendBootstrapJar(Instrumentation inst) throws IOException {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"));
        boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        Path jar = null;
        for (int attempt = 0; jar == null; attempt++) {
            // Not the pid: ProcessHandle.current() starts the process reaper machinery (measurable
            // start-up time). Uniqueness comes from CREATE_NEW and the retry, not from the name.
            Path candidate = dir.resolve("connguard-bootstrap-" + Long.toHexString(System.nanoTime()) + "-"
                    + Integer.toHexString(System.identityHashCode(new Object())) + "-" + attempt + ".jar");
            try {
                jar = posix
                        ? Files.createFile(candidate, PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rw-------")))
                        : Files.createFile(candidate);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
            }
        }
        jar.toFile().deleteOnExit();
        // java.io, not Files.copy: on JDK 25 an NIO file stream loads SocketChannelImpl.
        try (InputStream in = ConnGuardAgent.class.getResourceAsStream(BOOTSTRAP_JAR);
             OutputStream out = new FileOutputStream(jar.toFile())) {
            if (in == null) {
                throw new IOException(BOOTSTRAP_JAR + " is missing from the agent jar");
            }
            in.transferTo(out);
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(jar.toFile()));
    }

    static String version() {
        String v = ConnGuardAgent.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}

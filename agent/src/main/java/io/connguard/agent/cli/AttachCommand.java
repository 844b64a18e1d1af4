package io.connguard.agent.cli;

import com.sun.tools.attach.AgentInitializationException;
import com.sun.tools.attach.AgentLoadException;
import io.connguard.agent.ConnGuardAgent;
import io.connguard.agent.config.AgentArguments;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Properties;

/**
 * {@code attach <pid> [SETTING=value ...]}: loads this jar into a running JVM as an agent
 * ({@code agentmain}). A JVM whose system properties show ConnGuard already is refused here,
 * before anything is loaded; the agent refuses a second start as well. The agent's outcome comes
 * back through the system property it sets, since its log goes to the target's stderr.
 */
final class AttachCommand {

    private final long pid;
    private final AgentArguments settings;
    private final PrintStream out;

    AttachCommand(long pid, AgentArguments settings, PrintStream out) {
        this.pid = pid;
        this.settings = settings;
        this.out = out;
    }

    int run() throws CliException {
        Path jar = ownJar();
        try (TargetJvm target = TargetJvm.attach(pid)) {
            Properties before = target.systemProperties();
            String running = before.getProperty(ConnGuardAgent.VERSION_PROPERTY);
            if (running != null) {
                throw new CliException(Main.ALREADY_ATTACHED, "pid " + pid + " already runs ConnGuard " + running
                        + " (started by " + startedBy(before) + "); a second attach is refused. Change a host's"
                        + " limit at run time over JMX instead (io.connguard:type=Agent setHostLimit)");
            }
            try {
                target.vm().loadAgent(jar.toString(), settings.encode());
            } catch (AgentLoadException | AgentInitializationException | IOException e) {
                throw new CliException(Main.FAILED, "loading the agent into pid " + pid + " failed: "
                        + TargetJvm.oneLine(e) + " (the JVM's stderr says more; JDK 21+ refuses it under"
                        + " -XX:-EnableDynamicAgentLoading)");
            }
            String result = target.systemProperties().getProperty(ConnGuardAgent.ATTACH_RESULT_PROPERTY, "no answer");
            if (!ConnGuardAgent.STARTED.equals(result)) {
                throw new CliException(Main.FAILED, "the agent did not start in pid " + pid + ": " + result);
            }
            out.println("connguard: attached ConnGuard " + target.systemProperties()
                    .getProperty(ConnGuardAgent.VERSION_PROPERTY) + " to pid " + pid
                    + (settings.isEmpty() ? "" : " with " + settings.describe())
                    + "; new connections are governed from now on (the start-up line is in the JVM's log)");
            return Main.OK;
        }
    }

    static String startedBy(Properties properties) {
        return "attach".equals(properties.getProperty(ConnGuardAgent.START_PROPERTY)) ? "an earlier attach" : "-javaagent";
    }

    private static Path ownJar() throws CliException {
        try {
            Path jar = Path.of(AttachCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toAbsolutePath();
            if (!jar.toString().endsWith(".jar")) {
                throw new CliException(Main.FAILED, "attach runs from the agent jar only (java -jar connguard-agent.jar attach ...), not from " + jar);
            }
            return jar;
        } catch (URISyntaxException | RuntimeException e) {
            throw new CliException(Main.FAILED, "cannot find the agent jar this tool runs from: " + e);
        }
    }
}

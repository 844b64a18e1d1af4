package io.connguard.bench.jmh;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;

/**
 * Which variant a benchmark fork is, and proof that the fork really is that variant.
 *
 * <p>Each benchmark class declares its variant in its {@code @Fork(jvmArgsAppend = ...)} as
 * {@code -Dbench.connguard.variant=with-agent|without-agent}. The agent itself is added to the
 * with-agent forks by {@link ConnGuardAgentProfiler} ({@code -prof io.connguard.bench.jmh.ConnGuardAgentProfiler}),
 * because an annotation cannot name a path chosen at run time. A fork that is not what it claims
 * (agent missing, agent present where it must not be, agent present but not governing) fails its
 * trial with a message that says what to change, so a ratio is never computed from two identical runs.
 */
final class AgentVariant {

    // Outside the connguard.* namespace: the agent reports every connguard.* property it does not know.
    static final String PROPERTY = "bench.connguard.variant";
    static final String WITH_AGENT = "-D" + PROPERTY + "=with-agent";
    static final String WITHOUT_AGENT = "-D" + PROPERTY + "=without-agent";

    private static final String HOOKS = "io.connguard.bootstrap.ConnGuardHooks";

    private AgentVariant() {
    }

    static boolean expectAgent() {
        String v = System.getProperty(PROPERTY);
        if ("with-agent".equals(v)) {
            return true;
        }
        if ("without-agent".equals(v)) {
            return false;
        }
        throw new IllegalStateException("-D" + PROPERTY + " is not set in this JVM: the ConnGuard benchmarks must"
                + " run in forks (do not pass -f 0), because the with- and without-agent variants differ only"
                + " in their forked JVM's options");
    }

    /** Called from each benchmark's trial set-up, before any measurement. */
    static void checkAtSetup() {
        boolean expected = expectAgent();
        boolean installed = hooksInstalled();
        if (expected && !installed) {
            throw new IllegalStateException("this fork is the with-agent variant but the ConnGuard agent is not"
                    + " running in it. Run JMH with -prof " + ConnGuardAgentProfiler.class.getName()
                    + " (it adds -javaagent:<jar> to the with-agent forks; the jar is -Dconnguard.agent.jar,"
                    + " default agent/target/connguard-agent.jar relative to the working directory).");
        }
        if (!expected && installed) {
            throw new IllegalStateException("this fork is the without-agent variant but the ConnGuard agent is"
                    + " running in it (inherited -javaagent from the JMH host JVM, JAVA_TOOL_OPTIONS or"
                    + " JDK_JAVA_OPTIONS?). Start JMH without the agent.");
        }
    }

    /**
     * Called from each benchmark's trial tear-down: in the with-agent fork, reads the agent's own
     * counters over JMX to prove that the connects were governed, and prints them.
     */
    static void reportAtTearDown(long expectedAtLeast) {
        if (!expectAgent()) {
            return;
        }
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName agent = new ObjectName("io.connguard:type=Agent");
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!server.isRegistered(agent) && System.nanoTime() < deadline) {
                Thread.sleep(20); // the agent registers its MBeans lazily, on its own thread
            }
            if (!server.isRegistered(agent)) {
                throw new IllegalStateException("the ConnGuard agent is running but io.connguard:type=Agent never"
                        + " appeared: no connect was governed, so this is not a with-agent measurement");
            }
            long connects = ((Number) server.getAttribute(agent, "Connects")).longValue();
            System.out.println("# connguard in this fork: Connects=" + connects
                    + " Open=" + server.getAttribute(agent, "Open")
                    + " Leaks=" + server.getAttribute(agent, "Leaks")
                    + " QueueTimeouts=" + server.getAttribute(agent, "QueueTimeouts")
                    + " MaxPerHost=" + server.getAttribute(agent, "MaxPerHost"));
            String[] open = (String[]) server.invoke(agent, "listOpenConnections", null, null);
            for (int i = 0; i < Math.min(open.length, 5); i++) {
                System.out.println("#   open: " + open[i]);
            }
            if (connects < expectedAtLeast) {
                throw new IllegalStateException("the ConnGuard agent governed only " + connects
                        + " connects, expected at least " + expectedAtLeast);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("could not read the ConnGuard agent's JMX counters: " + e, e);
        }
    }

    /**
     * In a with-agent fork: the agent's effective configuration (its Configuration attribute) has
     * the leak settings that this fork's {@code -Dconnguard.leak.stacks} and
     * {@code -Dconnguard.leak.threshold} ask for (the defaults if absent), so that a ratio per leak
     * setting is never computed from a fork that silently ran another one.
     */
    static void checkLeakSettings() throws Exception {
        String stacks = System.getProperty("connguard.leak.stacks", "sampled");
        String threshold = System.getProperty("connguard.leak.threshold", "1m");
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        String configuration = (String) server.getAttribute(agentMBean(server), "Configuration");
        System.out.println("# connguard configuration: " + configuration);
        if (!(" " + configuration + " ").contains(" leakStacks=" + stacks + " ")
                || !(" " + configuration + " ").contains(" leakThreshold=" + threshold + " ")) {
            throw new IllegalStateException("this fork claims leakStacks=" + stacks + " leakThreshold=" + threshold
                    + " but the agent runs with: " + configuration);
        }
    }

    /** Invokes a no-argument operation of the agent's MBean ({@code listOpenConnections}, ...). */
    static Object agentOperation(String name) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        return server.invoke(agentMBean(server), name, null, null);
    }

    /**
     * How many frames the stack in one entry of {@code listOpenConnections} had: its {@code \tat}
     * lines plus the {@code ... N more} it was cut at (the agent's own frames are not shown).
     */
    static int stackFrames(String entry) {
        int frames = 0;
        for (String l : entry.split("\n")) {
            String t = l.trim();
            if (t.startsWith("at ")) {
                frames++;
            } else if (t.startsWith("... ") && t.endsWith(" more")) {
                frames += Integer.parseInt(t.substring(4, t.length() - 5).trim());
            }
        }
        return frames;
    }

    private static ObjectName agentMBean(MBeanServer server) throws Exception {
        ObjectName agent = new ObjectName("io.connguard:type=Agent");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!server.isRegistered(agent) && System.nanoTime() < deadline) {
            Thread.sleep(20); // the agent registers its MBeans lazily, on its own thread
        }
        return agent;
    }

    private static boolean hooksInstalled() {
        try {
            Class<?> hooks = Class.forName(HOOKS, false, null); // only the bootstrap loader: where the agent puts it
            return (Boolean) hooks.getMethod("isInstalled").invoke(null);
        } catch (ClassNotFoundException e) {
            return false;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot ask " + HOOKS + " whether it is installed: " + e, e);
        }
    }
}

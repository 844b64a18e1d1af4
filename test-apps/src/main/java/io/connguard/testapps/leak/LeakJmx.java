package io.connguard.testapps.leak;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;

import javax.management.InstanceNotFoundException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import io.connguard.testapps.client.JmxDump;

/**
 * Prints ConnGuard's MBeans of this JVM ({@link JmxDump}'s {@code JMX ...} lines) and the Agent
 * MBean's {@code listLeaks()}: one {@code JMXLEAK <text>} line per suspected leak (line breaks of
 * the text, e.g. its stack, become {@code " | "}), then {@code JMXLEAKS count=<n>}, or
 * {@code JMXLEAKS none} without the agent, or {@code JMXLEAKS error <reason>}.
 */
final class LeakJmx {

    private LeakJmx() {
    }

    static void print(PrintStream out) {
        JmxDump.print(out, 2_000);
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            Object leaks = server.invoke(new ObjectName("io.connguard:type=Agent"), "listLeaks", new Object[0], new String[0]);
            if (leaks instanceof String[]) {
                String[] texts = (String[]) leaks;
                for (String text : texts) {
                    out.println("JMXLEAK " + text.replace("\r", "").replace("\t", "").replace("\n", " | "));
                }
                out.println("JMXLEAKS count=" + texts.length);
            } else {
                out.println("JMXLEAKS error listLeaks() returned " + (leaks == null ? "null" : leaks.getClass().getName()));
            }
        } catch (InstanceNotFoundException e) {
            out.println("JMXLEAKS none");
        } catch (Exception e) {
            out.println("JMXLEAKS error " + LeakScenario.describe(e));
        }
        out.flush();
    }
}

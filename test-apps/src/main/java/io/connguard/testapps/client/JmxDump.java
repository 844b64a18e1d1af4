package io.connguard.testapps.client;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Prints ConnGuard's MBeans from the platform MBean server of this very JVM:
 * <pre>
 * JMX &lt;objectName&gt; Limit=.. Open=.. ...     one line per io.connguard:type=Host MBean, or "JMX none"
 * JMXAGENT &lt;objectName&gt; name=value ...     the io.connguard:type=Agent MBean, when present
 * JMXCOUNT mbeans=&lt;n&gt;                     how many MBeans the io.connguard domain holds
 * </pre>
 * Only simple attribute values (numbers, booleans, strings) are printed; whitespace in strings
 * becomes {@code _} so that every line stays a list of {@code name=value} tokens.
 */
public final class JmxDump {

    /** The attributes DESIGN.md names, printed first and in this order when they exist. */
    private static final List<String> PREFERRED = List.of(
            "Limit", "Open", "Idle", "InUse", "Queued", "PeakOpen", "Connects", "QueueTimeouts",
            "Reclaimed", "HandOvers", "Retries", "Leaks");

    private JmxDump() {
    }

    public static void print(PrintStream out, long waitMs) {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName hosts = new ObjectName("io.connguard:type=Host,*");
            long deadline = System.nanoTime() + waitMs * 1_000_000L;
            Set<ObjectName> found = server.queryNames(hosts, null);
            while (found.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
                found = server.queryNames(hosts, null);
            }
            if (found.isEmpty()) {
                out.println("JMX none");
            }
            for (ObjectName name : sorted(found)) {
                out.println("JMX " + name + attributes(server, name));
            }
            for (ObjectName name : sorted(server.queryNames(new ObjectName("io.connguard:type=Agent,*"), null))) {
                out.println("JMXAGENT " + name + attributes(server, name));
            }
            out.println("JMXCOUNT mbeans=" + server.queryNames(new ObjectName("io.connguard:*"), null).size());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out.println("JMX error " + LoadRun.describe(e));
        } catch (Exception e) {
            out.println("JMX error " + LoadRun.describe(e));
        }
        out.flush();
    }

    private static Set<ObjectName> sorted(Set<ObjectName> names) {
        Set<ObjectName> sorted = new TreeSet<>((a, b) -> a.toString().compareTo(b.toString()));
        sorted.addAll(names);
        return sorted;
    }

    private static String attributes(MBeanServer server, ObjectName name) throws Exception {
        Map<String, MBeanAttributeInfo> readable = new LinkedHashMap<>();
        for (MBeanAttributeInfo info : server.getMBeanInfo(name).getAttributes()) {
            if (info.isReadable()) {
                readable.put(info.getName(), info);
            }
        }
        List<String> order = new ArrayList<>();
        for (String preferred : PREFERRED) {
            if (readable.containsKey(preferred)) {
                order.add(preferred);
            }
        }
        new TreeSet<>(readable.keySet()).stream().filter(n -> !order.contains(n)).forEach(order::add);

        StringBuilder sb = new StringBuilder();
        for (String attribute : order) {
            Object value;
            try {
                value = server.getAttribute(name, attribute);
            } catch (Exception e) {
                continue;
            }
            if (value == null || value instanceof Number || value instanceof Boolean) {
                sb.append(' ').append(attribute).append('=').append(value);
            } else if (value instanceof CharSequence || value instanceof Enum || value instanceof Character) {
                sb.append(' ').append(attribute).append('=').append(value.toString().replaceAll("\\s+", "_"));
            }
        }
        return sb.toString();
    }
}

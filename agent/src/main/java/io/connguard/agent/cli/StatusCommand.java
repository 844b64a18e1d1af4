package io.connguard.agent.cli;

import io.connguard.agent.ConnGuardAgent;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code status <pid>}: the per-host table, read from the target's MBeans over local JMX (the
 * Attach API starts the target's local management agent if it is not running, as jconsole does).
 * With {@code --watch} the screen is cleared and the table redrawn in place (ANSI) every few
 * seconds, over the same connection.
 */
final class StatusCommand {

    static final String CLEAR = "\u001b[H\u001b[2J";
    private static final String[] ATTRIBUTES = {"Host", "Port", "Limit", "Open", "InUse", "Idle", "Queued", "Waits",
            "QueueTimeouts", "Reclaimed", "HandOvers", "Retries", "Leaks"};
    private static final String[] HEADINGS = {"HOST", "LIMIT", "OPEN", "IN USE", "IDLE", "QUEUED", "WAITS",
            "TIMEOUTS", "RECLAIMED", "HANDOVERS", "RETRIES", "LEAKS"};

    private static final String[] FLEET_ATTRIBUTES = {"Host", "Port", "FleetLimit", "FleetMode", "FleetPermitsHeld",
            "FleetInUseHere", "FleetInUse", "FleetWaits", "FleetFallbacks"};
    private static final String[] FLEET_HEADINGS = {"HOST", "FLEET LIMIT", "MODE", "PERMITS HERE", "IN USE HERE",
            "FLEET IN USE", "WAITS", "FALLBACKS"};

    private final long pid;
    private final int watchSeconds;
    private final int count;
    private final boolean leaks;
    private final PrintStream out;

    StatusCommand(long pid, int watchSeconds, int count, boolean leaks, PrintStream out) {
        this.pid = pid;
        this.watchSeconds = watchSeconds;
        this.count = count;
        this.leaks = leaks;
        this.out = out;
    }

    int run() throws CliException {
        String version;
        String startedBy;
        String address;
        try (TargetJvm target = TargetJvm.attach(pid)) {
            Properties properties = target.systemProperties();
            version = properties.getProperty(ConnGuardAgent.VERSION_PROPERTY);
            if (version == null) {
                throw new CliException(Main.NO_AGENT, "pid " + pid + " runs no ConnGuard agent (it was started"
                        + " without -javaagent:connguard-agent.jar, or the agent was disabled or refused to start;"
                        + " its stderr says which); load it with: java -jar connguard-agent.jar attach " + pid);
            }
            startedBy = AttachCommand.startedBy(properties);
            try {
                address = target.vm().startLocalManagementAgent();
            } catch (IOException e) {
                throw new CliException(Main.FAILED, "cannot start local JMX in pid " + pid + ": " + TargetJvm.oneLine(e));
            }
        }
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection jmx = connector.getMBeanServerConnection();
            String title = "ConnGuard " + version + " in pid " + pid + " (started by " + startedBy + ")";
            int shown = 0;
            while (true) {
                if (watchSeconds > 0) {
                    out.print(CLEAR);
                }
                out.println(title + ", " + Instant.now().truncatedTo(ChronoUnit.SECONDS));
                print(jmx);
                out.flush();
                shown++;
                if (watchSeconds == 0 || (count > 0 && shown >= count)) {
                    return Main.OK;
                }
                Thread.sleep(watchSeconds * 1000L);
            }
        } catch (IOException e) {
            throw new CliException(Main.FAILED, "lost the JMX connection to pid " + pid + " (did it end?): "
                    + TargetJvm.oneLine(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.OK;
        } catch (Exception e) {
            throw new CliException(Main.FAILED, "reading ConnGuard's MBeans in pid " + pid + " failed: "
                    + TargetJvm.oneLine(e));
        }
    }

    private void printTable(List<String[]> rows) {
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                if (i == 0) {
                    line.append(String.format("%-" + widths[0] + "s", row[0]));
                } else {
                    line.append("  ").append(String.format("%" + widths[i] + "s", row[i]));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }

    /** Fleet-capped destinations, if any: the fleet cap, the mode, and the permits here and fleet-wide. */
    private void printFleet(MBeanServerConnection jmx, ObjectName agent) throws Exception {
        List<String[]> rows = new ArrayList<>();
        for (ObjectName name : jmx.queryNames(new ObjectName("io.connguard:type=Host,*"), null)) {
            Map<String, Object> values = new HashMap<>();
            try {
                for (Attribute a : jmx.getAttributes(name, FLEET_ATTRIBUTES).asList()) {
                    values.put(a.getName(), a.getValue());
                }
            } catch (javax.management.InstanceNotFoundException e) {
                continue;
            }
            Object cap = values.get("FleetLimit");
            if (!(cap instanceof Integer) || (Integer) cap <= 0) {
                continue; // no fleet cap, or an agent without fleet mode
            }
            String host = String.valueOf(values.get("Host"));
            Object fleetInUse = values.get("FleetInUse");
            rows.add(new String[] {(host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + values.get("Port"),
                    String.valueOf(cap), String.valueOf(values.get("FleetMode")),
                    String.valueOf(values.get("FleetPermitsHeld")), String.valueOf(values.get("FleetInUseHere")),
                    Integer.valueOf(-1).equals(fleetInUse) ? "?" : String.valueOf(fleetInUse),
                    String.valueOf(values.get("FleetWaits")), String.valueOf(values.get("FleetFallbacks"))});
        }
        if (rows.isEmpty()) {
            return;
        }
        rows.sort(Comparator.comparing(r -> r[0]));
        Map<String, Object> store = new HashMap<>();
        for (Attribute a : jmx.getAttributes(agent, new String[] {"FleetStore", "FleetStoreDown",
                "FleetRedisLatencyMillis"}).asList()) {
            store.put(a.getName(), a.getValue());
        }
        Object latency = store.get("FleetRedisLatencyMillis");
        out.println();
        out.println("fleet store " + store.get("FleetStore") + ": "
                + (Boolean.TRUE.equals(store.get("FleetStoreDown")) ? "CANNOT BE REACHED, fallback caps in force"
                : "reachable") + (latency instanceof Double && (Double) latency >= 0
                ? String.format(java.util.Locale.ROOT, ", last exchange %.1f ms", (Double) latency) : ""));
        rows.add(0, FLEET_HEADINGS);
        printTable(rows);
    }

    private void print(MBeanServerConnection jmx) throws Exception {
        ObjectName agent = new ObjectName("io.connguard:type=Agent");
        if (!jmx.isRegistered(agent)) {
            // The MBeans are registered at the first outgoing connection, never at start-up.
            out.println("no outgoing connection seen yet: no hosts to show");
            return;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADINGS);
        List<String[]> hosts = new ArrayList<>();
        for (ObjectName name : jmx.queryNames(new ObjectName("io.connguard:type=Host,*"), null)) {
            AttributeList list;
            try {
                list = jmx.getAttributes(name, ATTRIBUTES);
            } catch (javax.management.InstanceNotFoundException e) {
                continue;
            }
            Map<String, Object> values = new HashMap<>();
            for (Attribute a : list.asList()) {
                values.put(a.getName(), a.getValue());
            }
            String[] row = new String[HEADINGS.length];
            String host = String.valueOf(values.get("Host"));
            row[0] = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + values.get("Port");
            Object limit = values.get("Limit");
            row[1] = Integer.valueOf(0).equals(limit) ? "none" : String.valueOf(limit);
            for (int i = 2; i < HEADINGS.length; i++) {
                row[i] = String.valueOf(values.get(ATTRIBUTES[i + 1]));
            }
            hosts.add(row);
        }
        hosts.sort(Comparator.comparing(r -> r[0]));
        rows.addAll(hosts);
        printTable(rows);
        if (hosts.isEmpty()) {
            out.println("(no destinations registered yet)");
        }
        printFleet(jmx, agent);
        if (leaks) {
            String[] entries = (String[]) jmx.invoke(agent, "listLeaks", new Object[0], new String[0]);
            out.println();
            if (entries.length == 0) {
                out.println("no suspected or reported leaks");
            } else {
                out.println("leaks (suspected now, then the most recent reports):");
                for (String e : entries) {
                    out.println(e);
                }
            }
        }
    }
}

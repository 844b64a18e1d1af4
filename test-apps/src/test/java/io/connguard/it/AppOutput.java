package io.connguard.it;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * What an application JVM printed, read line by line: {@code RESULT}, {@code FAIL}, {@code JMX}
 * and the other {@code KEY key=value ...} lines of the test apps.
 */
final class AppOutput {

    private final JvmProcess process;
    private final int exitCode;
    private final List<String> lines;

    AppOutput(JvmProcess process, int exitCode) {
        this.process = process;
        this.exitCode = exitCode;
        this.lines = process.stdoutLines();
    }

    JvmProcess process() {
        return process;
    }

    int exitCode() {
        return exitCode;
    }

    List<String> lines() {
        return lines;
    }

    List<String> stderrLines() {
        return process.stderrLines();
    }

    boolean hasLine(String line) {
        return lines.contains(line);
    }

    /** The {@code key=value} tokens of the first line starting with {@code tag + " "}, or empty. */
    Optional<Map<String, String>> tagged(String tag) {
        return lines.stream().filter(l -> l.startsWith(tag + " ")).findFirst().map(l -> keyValues(l.substring(tag.length() + 1)));
    }

    /** The {@code RESULT} line's tokens; fails with the output when there is none. */
    Map<String, String> result() {
        return tagged("RESULT").orElseThrow(() -> new AssertionError(
                "no RESULT line from " + process.name() + "\n" + process.diagnostics(40)));
    }

    long ok() {
        return Long.parseLong(result().get("ok"));
    }

    long failed() {
        return Long.parseLong(result().get("failed"));
    }

    /** {@code FAIL <count> <reason>} lines as reason → count. */
    Map<String, Long> failReasons() {
        Map<String, Long> reasons = new LinkedHashMap<>();
        for (String line : lines) {
            if (line.startsWith("FAIL ")) {
                String[] parts = line.split(" ", 3);
                reasons.put(parts.length > 2 ? parts[2] : "", Long.parseLong(parts[1]));
            }
        }
        return reasons;
    }

    /** The {@code JMX <objectName> ...} lines (ConnGuard Host MBeans), without {@code JMX none}. */
    List<String> jmxHostLines() {
        return lines.stream().filter(l -> l.startsWith("JMX ") && !l.equals("JMX none")).collect(Collectors.toList());
    }

    /** The attributes of the Host MBean for 127.0.0.1:{@code port}, as printed with {@code --jmx}. */
    Optional<Map<String, String>> hostMBean(int port) {
        return jmxHostLines().stream()
                .filter(l -> isHost(l.split(" ", 3)[1], "127.0.0.1", port))
                .findFirst()
                .map(l -> {
                    String[] parts = l.split(" ", 3);
                    return parts.length > 2 ? keyValues(parts[2]) : Map.<String, String>of();
                });
    }

    private static boolean isHost(String objectName, String host, int port) {
        try {
            ObjectName name = new ObjectName(objectName);
            String h = name.getKeyProperty("host");
            if (h != null && h.startsWith("\"")) {
                h = ObjectName.unquote(h);
            }
            return host.equals(h) && String.valueOf(port).equals(name.getKeyProperty("port"));
        } catch (MalformedObjectNameException e) {
            return false;
        }
    }

    static Map<String, String> keyValues(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String token : text.trim().split("\\s+")) {
            int eq = token.indexOf('=');
            if (eq > 0) {
                values.put(token.substring(0, eq), token.substring(eq + 1));
            }
        }
        return values;
    }

    /** For assertion messages: the process name and its stdout. */
    String describe() {
        return process.name() + " exit=" + exitCode + " stdout:\n" + String.join("\n", lines);
    }
}

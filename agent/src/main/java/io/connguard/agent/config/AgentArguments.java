package io.connguard.agent.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Settings handed to a late attach ({@code java -jar connguard-agent.jar attach <pid> name=value ...}):
 * one {@code name=value} pair per line of the agent's argument string. A name is an environment
 * name ({@code CONNGUARD_HOST_LIMITS}) or a system property name ({@code connguard.host.limits});
 * either becomes the system property name, so an attach setting wins over the target's
 * environment and its {@code -D} options, and an unknown name is reported as any other.
 */
public final class AgentArguments {

    /** Between pairs in the agent argument string: values may hold commas, never a line break. */
    public static final String SEPARATOR = "\n";

    private final Map<String, String> properties;
    private final List<String> problems;

    private AgentArguments(Map<String, String> properties, List<String> problems) {
        this.properties = properties;
        this.problems = problems;
    }

    /** Parses pairs as the command line gives them. */
    public static AgentArguments parse(List<String> pairs) {
        Map<String, String> properties = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (String pair : pairs) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair.strip() : pair.substring(0, eq).strip();
            String property = propertyName(name);
            if (eq <= 0 || property == null) {
                // Only the name: the value may be a secret (a Redis URL with its password).
                problems.add("attach setting '" + Values.printable(name) + (eq < 0 ? "" : "=...")
                        + "' is not name=value with a name such as CONNGUARD_HOST_LIMITS or connguard.host.limits");
                continue;
            }
            String value = pair.substring(eq + 1);
            if (value.contains("\n") || value.contains("\r")) {
                problems.add("attach setting " + name + ": a value cannot hold a line break");
                continue;
            }
            properties.put(property, value.strip());
        }
        return new AgentArguments(properties, problems);
    }

    /** Parses the agent argument string built by {@link #encode()}; null or blank means none. */
    public static AgentArguments decode(String agentArgs) {
        return parse(agentArgs == null ? List.of() : List.of(agentArgs.split(SEPARATOR)));
    }

    /** {@code CONNGUARD_X_Y} or {@code connguard.x.y} as {@code connguard.x.y}; null for anything else. */
    static String propertyName(String name) {
        if (name.regionMatches(true, 0, Setting.ENV_PREFIX, 0, Setting.ENV_PREFIX.length())
                && name.length() > Setting.ENV_PREFIX.length() && name.indexOf('.') < 0) {
            return Setting.PROPERTY_PREFIX
                    + name.substring(Setting.ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
        }
        if (name.startsWith(Setting.PROPERTY_PREFIX) && name.length() > Setting.PROPERTY_PREFIX.length()) {
            return name;
        }
        return null;
    }

    public String encode() {
        StringBuilder sb = new StringBuilder();
        properties.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : SEPARATOR).append(k).append('=').append(v));
        return sb.toString();
    }

    /** As {@link #encode()} joined by spaces, for people: secret values (the fleet's Redis URL) masked. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        properties.forEach((k, v) -> {
            String shown = v;
            if (k.equals(Setting.FLEET_REDIS.propertyName())) {
                try {
                    shown = RedisUrl.parse(v).toString();
                } catch (IllegalArgumentException e) {
                    shown = "(not a Redis URL)";
                }
            }
            sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(shown);
        });
        return sb.toString();
    }

    public boolean isEmpty() {
        return properties.isEmpty();
    }

    /** Lines saying which pairs could not be read; those pairs are left out. */
    public List<String> problems() {
        return problems;
    }

    /** {@code base} with these settings on top (a copy; {@code base} is not changed). */
    public Properties over(Properties base) {
        Properties merged = new Properties();
        if (base != null) {
            for (String name : base.stringPropertyNames()) {
                merged.setProperty(name, base.getProperty(name));
            }
        }
        properties.forEach(merged::setProperty);
        return merged;
    }
}

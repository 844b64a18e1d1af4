package io.connguard.agent.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Per-host connection caps from {@code CONNGUARD_HOST_LIMITS}: comma-separated
 * {@code pattern=limit} entries, where a pattern is {@code host}, {@code host:port},
 * {@code *.suffix}, {@code *.suffix:port}, {@code *} or {@code *:port} (IPv6 literals in
 * brackets) and a limit of 0 means no cap.
 *
 * <p>The most specific matching pattern wins: exact host:port, exact host, the longest
 * {@code *.suffix:port}, the longest {@code *.suffix}, {@code *:port}, {@code *}. Specificity is
 * decided by the kind of pattern, never by the order of entries, so that reordering the list
 * cannot change a limit.
 *
 * <p>Everything is worked out at parse time so that {@link #limitFor}, which runs on every
 * connect, is one hash lookup, a scan of the suffix patterns with {@code regionMatches}-style
 * comparisons and a few binary searches over int arrays: no regex and no allocation for a host
 * already in normal form (lower case, as {@code core.HostKey} keeps it).
 */
public final class HostLimits {

    /** What one entry may look like, for error messages. */
    static final String ENTRY_ACCEPTED = "pattern=limit, pattern one of host, host:port, *.suffix,"
            + " *.suffix:port, * or *:port (IPv6 in brackets, e.g. [::1]:8080),"
            + " limit a whole number >= 0 (0 = no cap)";

    /** What one entry of a pattern list ({@code CONNGUARD_REGISTRY_HOSTS}) may look like. */
    static final String PATTERN_ACCEPTED = "host patterns: host, host:port, *.suffix, *.suffix:port, * or *:port"
            + " (IPv6 in brackets, e.g. [::1]:5000)";

    /**
     * Words a user may write for "every host" or "no host" in a list of patterns: valid host names,
     * but in {@code CONNGUARD_RETRY_HOSTS=all} surely not meant as one, so they are reported.
     */
    private static final Set<String> WORDS = Set.of("all", "any", "every", "true", "yes", "on", "false", "no", "off");

    private static final int NONE = -1;
    private static final HostLimits EMPTY =
            new HostLimits(Map.of(), new String[0], new PortLimits[0], null, "");

    /** Exact host patterns, keyed by normal host name ({@link HostNames}). */
    private final Map<String, PortLimits> exact;
    /** {@code *.suffix} patterns as ".suffix", longest first; limits at the same index. */
    private final String[] suffixes;
    private final PortLimits[] suffixLimits;
    /** {@code *} and {@code *:port}, or null. */
    private final PortLimits wildcard;
    private final String canonical;

    private HostLimits(Map<String, PortLimits> exact, String[] suffixes, PortLimits[] suffixLimits,
                       PortLimits wildcard, String canonical) {
        this.exact = exact;
        this.suffixes = suffixes;
        this.suffixLimits = suffixLimits;
        this.wildcard = wildcard;
        this.canonical = canonical;
    }

    public static HostLimits empty() {
        return EMPTY;
    }

    /**
     * Parses {@code spec}. Each malformed entry adds one line to {@code problems} naming the
     * setting and the entry and is skipped; the other entries still apply. Empty entries (a
     * trailing comma) are ignored. A pattern given twice is reported and the later entry applies.
     */
    public static HostLimits parse(String spec, List<String> problems) {
        return parse(spec, problems, Setting.HOST_LIMITS, false);
    }

    /** As {@link #parse(String, List)}, reporting problems under {@code setting} (CONNGUARD_FLEET_LIMITS). */
    public static HostLimits parse(String spec, List<String> problems, Setting setting) {
        return parse(spec, problems, setting, false);
    }

    /**
     * Parses a list of host patterns without limits ({@code harbor.example.com,*.corp.example}),
     * for {@link #matches}. Bad entries are reported under {@code setting} and skipped.
     */
    public static HostLimits parsePatterns(String spec, List<String> problems, Setting setting) {
        return parse(spec, problems, setting, true);
    }

    private static HostLimits parse(String spec, List<String> problems, Setting setting, boolean patterns) {
        if (spec == null || spec.isBlank() || (patterns && spec.trim().equalsIgnoreCase("none"))) {
            return EMPTY;
        }
        TreeMap<String, Rules> exact = new TreeMap<>();
        TreeMap<String, Rules> suffixes = new TreeMap<>();
        Rules wildcard = new Rules();
        for (String raw : spec.split(",", -1)) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            String error = patterns && entry.indexOf('=') >= 0 ? "a host pattern takes no '=limit'"
                    : patterns && WORDS.contains(entry.toLowerCase(Locale.ROOT))
                    ? "a word, not a host: * names every host, none no host"
                    : add(patterns ? entry + "=1" : entry, exact, suffixes, wildcard);
            if (error != null) {
                problems.add(setting.displayName() + ": invalid entry " + Values.quote(entry)
                        + " (" + error + "); expected " + (patterns ? PATTERN_ACCEPTED : ENTRY_ACCEPTED)
                        + "; entry ignored");
            }
        }
        // A pattern named twice in a list of patterns is harmless: no problem to report.
        return freeze(exact, suffixes, wildcard, patterns ? new ArrayList<>() : problems, setting);
    }

    /** For a list of patterns ({@link #parsePatterns}): whether one of them matches {@code host:port}. */
    public boolean matches(String host, int port) {
        return !canonical.isEmpty() && limitFor(host, port, 0) > 0;
    }

    /** For a list of patterns: the canonical list, without the {@code =1} they are kept with. */
    public String patternsText() {
        return canonical.replace("=1", "");
    }

    /**
     * The cap for connections to {@code host:port}: the limit of the most specific matching
     * pattern, {@code fallback} if none matches. 0 means no cap, also when a pattern says so.
     */
    public int limitFor(String host, int port, int fallback) {
        if (canonical.isEmpty() || host == null) {
            return wildcardOr(port, fallback);
        }
        String h = HostNames.normalize(host);
        PortLimits rules = exact.get(h);
        if (rules != null) {
            int limit = rules.forPort(port);
            if (limit != NONE) {
                return limit;
            }
            if (rules.anyPort != NONE) {
                return rules.anyPort;
            }
        }
        // Longest first: the first suffix that has this port wins outright; otherwise the first
        // (longest) one with a port-less limit does.
        int anyPort = NONE;
        for (int i = 0; i < suffixes.length; i++) {
            String suffix = suffixes[i];
            // Longer than the suffix, so "*.corp.example" never matches "corp.example" itself.
            if (h.length() > suffix.length() && h.endsWith(suffix)) {
                int limit = suffixLimits[i].forPort(port);
                if (limit != NONE) {
                    return limit;
                }
                if (anyPort == NONE) {
                    anyPort = suffixLimits[i].anyPort;
                }
            }
        }
        return anyPort != NONE ? anyPort : wildcardOr(port, fallback);
    }

    public boolean isEmpty() {
        return canonical.isEmpty();
    }

    /**
     * The canonical spec: one entry per pattern, most specific first, hosts in normal form. It
     * parses back to an equal value.
     */
    @Override
    public String toString() {
        return canonical;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostLimits && ((HostLimits) o).canonical.equals(canonical);
    }

    @Override
    public int hashCode() {
        return canonical.hashCode();
    }

    private int wildcardOr(int port, int fallback) {
        if (wildcard == null) {
            return fallback;
        }
        int limit = wildcard.forPort(port);
        if (limit != NONE) {
            return limit;
        }
        return wildcard.anyPort != NONE ? wildcard.anyPort : fallback;
    }

    /** Adds one entry; returns why it is malformed, or null. */
    private static String add(String entry, Map<String, Rules> exact, Map<String, Rules> suffixes,
                              Rules wildcard) {
        int eq = entry.indexOf('=');
        if (eq < 0) {
            return "no '=limit'";
        }
        String pattern = entry.substring(0, eq).trim();
        String limitText = entry.substring(eq + 1).trim();
        if (pattern.isEmpty()) {
            return "no pattern before '='";
        }
        if (pattern.indexOf('/') >= 0) {
            return "a pattern is a host name, not a URL";
        }
        int limit = Values.parseCount(limitText);
        if (limit < 0) {
            return "limit " + Values.quote(limitText) + " is not a whole number >= 0";
        }
        String host;
        String portText = null;
        if (pattern.charAt(0) == '[') {
            int close = pattern.indexOf(']');
            if (close < 0) {
                return "no ']' after the IPv6 address";
            }
            String rest = pattern.substring(close + 1);
            if (!rest.isEmpty()) {
                if (rest.charAt(0) != ':') {
                    return "expected ':port' after ']'";
                }
                portText = rest.substring(1);
            }
            host = HostNames.canonicalIpv6(pattern.substring(1, close));
            if (host == null) {
                return Values.quote(pattern.substring(1, close)) + " is not an IPv6 address";
            }
        } else {
            int colon = pattern.lastIndexOf(':');
            host = colon < 0 ? pattern : pattern.substring(0, colon);
            if (colon >= 0) {
                if (host.indexOf(':') >= 0) {
                    return "an IPv6 address must be in brackets, e.g. [::1]:8080=4";
                }
                portText = pattern.substring(colon + 1);
            }
        }
        int port = NONE;
        if (portText != null) {
            port = Values.parseCount(portText);
            if (port < 1 || port > 65535 || !portText.equals(portText.trim())) {
                return "port " + Values.quote(portText) + " is not a number from 1 to 65535";
            }
        }
        Map<String, Rules> table;
        String key;
        // Only an IPv6 literal, already in normal form, still holds a ':' here.
        if (host.indexOf(':') >= 0) {
            table = exact;
            key = host;
        } else if (host.equals("*")) {
            table = null;
            key = null;
        } else if (host.startsWith("*.")) {
            table = suffixes;
            key = HostNames.normalize(host.substring(1));
            if (!isHostName(key.substring(1))) {
                return "suffix " + Values.quote(host.substring(2)) + " is not a host name";
            }
        } else if (host.indexOf('*') >= 0) {
            return "'*' must stand alone or start the pattern as '*.'";
        } else {
            table = exact;
            key = HostNames.normalize(host);
            if (!isHostName(key)) {
                return Values.quote(host) + " is not a host name";
            }
        }
        Rules rules = table == null ? wildcard : table.computeIfAbsent(key, k -> new Rules());
        if (!rules.put(port, limit)) {
            rules.duplicates.add(entry);
        }
        return null;
    }

    /** Dot-separated non-empty labels of letters, digits, '-' and '_' (lower case by now). */
    private static boolean isHostName(String name) {
        if (name.isEmpty() || name.startsWith(".") || name.endsWith(".") || name.contains("..")) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    private static HostLimits freeze(TreeMap<String, Rules> exact, TreeMap<String, Rules> suffixes,
                                     Rules wildcard, List<String> problems, Setting setting) {
        StringBuilder spec = new StringBuilder();
        Map<String, PortLimits> exactLimits = new HashMap<>();
        for (Map.Entry<String, Rules> e : exact.entrySet()) {
            String display = e.getKey().indexOf(':') >= 0 ? "[" + e.getKey() + "]" : e.getKey();
            exactLimits.put(e.getKey(), e.getValue().freeze(display, spec, problems, setting));
        }
        List<Map.Entry<String, Rules>> bySuffix = new ArrayList<>(suffixes.entrySet());
        // Stable sort: equally long suffixes stay alphabetical, so the spec is canonical.
        bySuffix.sort((a, b) -> b.getKey().length() - a.getKey().length());
        String[] suffixArray = new String[bySuffix.size()];
        PortLimits[] suffixLimits = new PortLimits[bySuffix.size()];
        for (int i = 0; i < suffixArray.length; i++) {
            suffixArray[i] = bySuffix.get(i).getKey();
            suffixLimits[i] = bySuffix.get(i).getValue().freeze("*" + suffixArray[i], spec, problems, setting);
        }
        PortLimits wildcardLimits = wildcard.isEmpty() ? null : wildcard.freeze("*", spec, problems, setting);
        if (spec.length() == 0) {
            return EMPTY;
        }
        return new HostLimits(exactLimits, suffixArray, suffixLimits, wildcardLimits, spec.toString());
    }

    /** Limits of one pattern host while parsing: its port-less limit and its per-port ones. */
    private static final class Rules {
        private int anyPort = NONE;
        private final TreeMap<Integer, Integer> ports = new TreeMap<>();
        private final List<String> duplicates = new ArrayList<>(0);

        /** Returns false if this pattern already had a limit (the new one replaces it). */
        boolean put(int port, int limit) {
            if (port == NONE) {
                boolean fresh = anyPort == NONE;
                anyPort = limit;
                return fresh;
            }
            return ports.put(port, limit) == null;
        }

        boolean isEmpty() {
            return anyPort == NONE && ports.isEmpty();
        }

        /** Appends this host's entries to {@code spec}, port-specific first, and reports duplicates. */
        PortLimits freeze(String display, StringBuilder spec, List<String> problems, Setting setting) {
            int[] portArray = new int[ports.size()];
            int[] limitArray = new int[ports.size()];
            int i = 0;
            for (Map.Entry<Integer, Integer> e : ports.entrySet()) {
                portArray[i] = e.getKey();
                limitArray[i++] = e.getValue();
                append(spec, display + ":" + e.getKey(), e.getValue());
            }
            if (anyPort != NONE) {
                append(spec, display, anyPort);
            }
            for (String duplicate : duplicates) {
                problems.add(setting.displayName() + ": entry " + Values.quote(duplicate)
                        + " repeats a pattern given earlier; the last entry for a pattern applies");
            }
            return new PortLimits(anyPort, portArray, limitArray);
        }

        private static void append(StringBuilder spec, String pattern, int limit) {
            if (spec.length() > 0) {
                spec.append(',');
            }
            spec.append(pattern).append('=').append(limit);
        }
    }

    /** Frozen limits of one pattern host: sorted ports for a binary search. */
    private static final class PortLimits {
        final int anyPort;
        private final int[] ports;
        private final int[] limits;

        PortLimits(int anyPort, int[] ports, int[] limits) {
            this.anyPort = anyPort;
            this.ports = ports;
            this.limits = limits;
        }

        int forPort(int port) {
            if (ports.length == 0) {
                return NONE;
            }
            int i = Arrays.binarySearch(ports, port);
            return i >= 0 ? limits[i] : NONE;
        }
    }
}

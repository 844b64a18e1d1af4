package io.connguard.agent.config;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The agent's settings, read once at start-up and immutable afterwards. This is the only class
 * of the agent that reads environment variables or system properties; everything else is handed
 * an {@code AgentConfig}.
 *
 * <p>For each {@link Setting} the system property wins, then the environment variable, then the
 * default. A blank value counts as unset, so {@code CONNGUARD_MAX_PER_HOST=} in a compose file
 * means "default", not "error". A value that does not parse becomes one line in
 * {@link #problems()} and the setting keeps its default; so does a {@code CONNGUARD_*} variable
 * or {@code connguard.*} property that names no setting. Loading never throws and never logs:
 * the caller logs the problems and, if {@link #refusesToStart()}, does not install the agent.
 */
public final class AgentConfig {

    private static final AgentConfig DEFAULTS = load(Map.of(), new Properties());

    /** Typed value of every setting, for {@link #describe()} and settings without a getter yet. */
    private final EnumMap<Setting, Object> values;
    private final List<String> problems;
    // Typed copies of the values, so that the getters are plain field reads.
    private final boolean enabled;
    private final int maxPerHost;
    private final HostLimits hostLimits;
    private final long queueTimeoutMillis;
    private final long reclaimSettleMillis;
    private final int queueMax;
    private final LogLevel logLevel;
    private final String logFile;
    private final LogFormat logFormat;
    private final long leakThresholdMillis;
    private final LeakStacks leakStacks;
    private final int retryMaxAttempts;
    private final BitSet retryStatuses;
    private final Set<String> retryMethods;
    private final long retryBackoffMillis;
    private final long retryMaxBackoffMillis;
    private final long retryAfterMaxMillis;
    private final int retryBudgetPercent;
    private final HostLimits registryHosts;
    private final HostLimits retryHosts;
    private final int prometheusPort;
    private final String prometheusHost;
    private final boolean metricsBridge;
    private final RedisUrl fleetRedis;
    private final HostLimits fleetLimits;
    private final String fleetName;
    private final long fleetLeaseMillis;
    private final int fleetFallbackLimit;
    private final boolean strict;

    private AgentConfig(EnumMap<Setting, Object> values, List<String> problems) {
        this.values = values;
        this.problems = List.copyOf(problems);
        this.enabled = (Boolean) values.get(Setting.ENABLED);
        this.maxPerHost = (Integer) values.get(Setting.MAX_PER_HOST);
        this.hostLimits = (HostLimits) values.get(Setting.HOST_LIMITS);
        this.queueTimeoutMillis = (Long) values.get(Setting.QUEUE_TIMEOUT);
        this.reclaimSettleMillis = (Long) values.get(Setting.RECLAIM_SETTLE);
        this.queueMax = (Integer) values.get(Setting.QUEUE_MAX);
        this.logLevel = (LogLevel) values.get(Setting.LOG_LEVEL);
        this.logFile = (String) values.get(Setting.LOG_FILE);
        this.logFormat = (LogFormat) values.get(Setting.LOG_FORMAT);
        this.leakThresholdMillis = (Long) values.get(Setting.LEAK_THRESHOLD);
        this.leakStacks = (LeakStacks) values.get(Setting.LEAK_STACKS);
        this.retryMaxAttempts = (Integer) values.get(Setting.RETRY_MAX_ATTEMPTS);
        this.retryStatuses = (BitSet) values.get(Setting.RETRY_STATUSES);
        @SuppressWarnings("unchecked")
        Set<String> methods = (Set<String>) values.get(Setting.RETRY_METHODS);
        this.retryMethods = methods;
        this.retryBackoffMillis = (Long) values.get(Setting.RETRY_BACKOFF);
        this.retryMaxBackoffMillis = (Long) values.get(Setting.RETRY_MAX_BACKOFF);
        this.retryAfterMaxMillis = (Long) values.get(Setting.RETRY_AFTER_MAX);
        this.retryBudgetPercent = (Integer) values.get(Setting.RETRY_BUDGET);
        this.registryHosts = (HostLimits) values.get(Setting.REGISTRY_HOSTS);
        this.retryHosts = (HostLimits) values.get(Setting.RETRY_HOSTS);
        this.prometheusPort = (Integer) values.get(Setting.PROMETHEUS_PORT);
        this.prometheusHost = (String) values.get(Setting.PROMETHEUS_HOST);
        this.metricsBridge = (Boolean) values.get(Setting.METRICS_BRIDGE);
        this.fleetRedis = (RedisUrl) values.get(Setting.FLEET_REDIS);
        this.fleetLimits = (HostLimits) values.get(Setting.FLEET_LIMITS);
        this.fleetName = (String) values.get(Setting.FLEET_NAME);
        this.fleetLeaseMillis = (Long) values.get(Setting.FLEET_LEASE);
        this.fleetFallbackLimit = (Integer) values.get(Setting.FLEET_FALLBACK_LIMIT);
        this.strict = (Boolean) values.get(Setting.STRICT);
    }

    /**
     * Reads the settings from {@code env} and {@code systemProperties} (either may be null).
     * Pure: touches nothing else, so tests pass their own maps.
     */
    public static AgentConfig load(Map<String, String> env, Properties systemProperties) {
        Map<String, String> environment = env != null ? env : Map.of();
        Properties properties = systemProperties != null ? systemProperties : new Properties();
        List<String> problems = new ArrayList<>();
        EnumMap<Setting, Object> values = new EnumMap<>(Setting.class);
        for (Setting setting : Setting.values()) {
            values.put(setting, read(setting, environment, properties, problems));
        }
        reportUnknown(environment.keySet(), properties.stringPropertyNames(), problems);
        boolean redis = ((RedisUrl) values.get(Setting.FLEET_REDIS)).isSet();
        boolean caps = !((HostLimits) values.get(Setting.FLEET_LIMITS)).isEmpty();
        if (caps && !redis) {
            problems.add(Setting.FLEET_LIMITS.displayName() + " is set but " + Setting.FLEET_REDIS.envName()
                    + " is not: no fleet-wide cap applies; set " + Setting.FLEET_REDIS.envName()
                    + "=redis://host:port");
        } else if (redis && !caps) {
            problems.add(Setting.FLEET_REDIS.displayName() + " is set but " + Setting.FLEET_LIMITS.envName()
                    + " names no host: nothing is capped fleet-wide; set e.g. " + Setting.FLEET_LIMITS.envName()
                    + "=registry.example.com=200");
        }
        return new AgentConfig(values, problems);
    }

    /** {@link #load} from this JVM's environment and system properties. */
    public static AgentConfig fromEnvironment() {
        return load(System.getenv(), System.getProperties());
    }

    /** {@link #fromEnvironment()} with the settings of a late attach on top: they win. */
    public static AgentConfig fromEnvironment(AgentArguments attachSettings) {
        return load(System.getenv(), attachSettings.over(System.getProperties()));
    }

    /** Every setting at its default, with no problems. */
    public static AgentConfig defaults() {
        return DEFAULTS;
    }

    public boolean enabled() {
        return enabled;
    }

    /** Cap for hosts that no {@link #hostLimits()} pattern matches; 0 = no cap. */
    public int maxPerHost() {
        return maxPerHost;
    }

    public HostLimits hostLimits() {
        return hostLimits;
    }

    public long queueTimeoutMillis() {
        return queueTimeoutMillis;
    }

    public int queueMax() {
        return queueMax;
    }

    /** How long a pooled connection must have been idle before it is reclaimed for another pool. */
    public long reclaimSettleMillis() {
        return reclaimSettleMillis;
    }

    /** How long a borrowed connection may sit held and idle before it is reported; 0 = never. */
    public long leakThresholdMillis() {
        return leakThresholdMillis;
    }

    public LeakStacks leakStacks() {
        return leakStacks;
    }

    /** Attempts per request including the first; 1 = no retries. */
    public int retryMaxAttempts() {
        return retryMaxAttempts;
    }

    /** Whether a response with {@code status} is a refusal to retry. */
    public boolean retryStatus(int status) {
        return status >= 0 && retryStatuses.get(status);
    }

    /** The retried methods, upper case. */
    public Set<String> retryMethods() {
        return retryMethods;
    }

    public long retryBackoffMillis() {
        return retryBackoffMillis;
    }

    public long retryMaxBackoffMillis() {
        return retryMaxBackoffMillis;
    }

    public long retryAfterMaxMillis() {
        return retryAfterMaxMillis;
    }

    public int retryBudgetPercent() {
        return retryBudgetPercent;
    }

    /** Whether {@code host:port} is named in {@code CONNGUARD_REGISTRY_HOSTS}. */
    public boolean registryHost(String host, int port) {
        return registryHosts.matches(host, port);
    }

    /**
     * Whether {@code host:port} is named in {@code CONNGUARD_RETRY_HOSTS}: retried even without a
     * cap and without being a registry ({@code *} names every host).
     */
    public boolean retryHost(String host, int port) {
        return retryHosts.matches(host, port);
    }

    public LogLevel logLevel() {
        return logLevel;
    }

    /** The file the log lines are appended to; empty for stderr. */
    public String logFile() {
        return logFile;
    }

    public LogFormat logFormat() {
        return logFormat;
    }

    /** The port of the Prometheus scrape endpoint; 0 = no endpoint. */
    public int prometheusPort() {
        return prometheusPort;
    }

    /** The address the Prometheus endpoint listens on. */
    public String prometheusHost() {
        return prometheusHost;
    }

    /** {@code CONNGUARD_METRICS_BRIDGE}: meters also into the application's own Micrometer, if it has one. */
    public boolean metricsBridge() {
        return metricsBridge;
    }

    /** {@code CONNGUARD_FLEET_REDIS}; {@link RedisUrl#isSet()} false when fleet mode is off. */
    public RedisUrl fleetRedis() {
        return fleetRedis;
    }

    /** {@code CONNGUARD_FLEET_LIMITS}: caps for the whole fleet. */
    public HostLimits fleetLimits() {
        return fleetLimits;
    }

    /** The fleet cap of {@code host:port}; 0 = none. */
    public int fleetLimitFor(String host, int port) {
        return fleetLimits.limitFor(host, port, 0);
    }

    /** Fleet mode is on: a Redis and at least one fleet cap. */
    public boolean fleetEnabled() {
        return fleetRedis.isSet() && !fleetLimits.isEmpty();
    }

    public String fleetName() {
        return fleetName;
    }

    public long fleetLeaseMillis() {
        return fleetLeaseMillis;
    }

    public int fleetFallbackLimit() {
        return fleetFallbackLimit;
    }

    public boolean strict() {
        return strict;
    }

    /** The cap for {@code host:port}: the most specific host pattern, else {@link #maxPerHost()}; 0 = none. */
    public int limitFor(String host, int port) {
        return hostLimits.limitFor(host, port, maxPerHost);
    }

    /** One line per bad value, bad host-limit entry or unknown setting name; empty if all is well. */
    public List<String> problems() {
        return problems;
    }

    public boolean hasProblems() {
        return !problems.isEmpty();
    }

    /** {@code CONNGUARD_STRICT=true} and something is wrong: the agent must not install itself. */
    public boolean refusesToStart() {
        return strict && !problems.isEmpty();
    }

    /**
     * One line for the start-up log and JMX, every setting in {@link Setting} order:
     * {@code enabled=true maxPerHost=0 hostLimits=none queueTimeout=30s queueMax=1000 logLevel=info strict=false}.
     */
    public String describe() {
        StringJoiner line = new StringJoiner(" ");
        for (Map.Entry<Setting, Object> e : values.entrySet()) {
            line.add(e.getKey().describeKey() + "=" + e.getKey().format(e.getValue()));
        }
        return line.toString();
    }

    @Override
    public String toString() {
        return describe();
    }

    private static Object read(Setting setting, Map<String, String> env, Properties properties,
                               List<String> problems) {
        String source = "system property " + setting.propertyName();
        String text = properties.getProperty(setting.propertyName());
        if (text == null || text.isBlank()) {
            source = "environment variable " + setting.envName();
            text = env.get(setting.envName());
        }
        Object fallback = setting.parse(setting.defaultValue(), new ArrayList<>());
        if (text == null || text.isBlank()) {
            return fallback;
        }
        try {
            return setting.parse(text.trim(), problems);
        } catch (IllegalArgumentException e) {
            String shown = setting.defaultValue().isEmpty() ? "empty" : setting.defaultValue();
            // A Redis URL may carry credentials: say what is wrong with it, never what it is.
            String value = setting.kind() == Setting.Kind.REDIS_URL ? "(" + e.getMessage() + ")" : Values.quote(text);
            problems.add(setting.displayName() + ": invalid value " + value + " from "
                    + source + "; expected " + setting.accepted() + "; using the default (" + shown + ")");
            return fallback;
        }
    }

    /**
     * Names in our namespace that are no setting are almost always typos, which would otherwise
     * silently leave a limit at its default. The value is not repeated: it might be a secret.
     */
    private static void reportUnknown(Iterable<String> envNames, Iterable<String> propertyNames,
                                      List<String> problems) {
        StringJoiner knownEnv = new StringJoiner(", ");
        StringJoiner knownProperties = new StringJoiner(", ");
        for (Setting s : Setting.values()) {
            knownEnv.add(s.envName());
            knownProperties.add(s.propertyName());
        }
        for (String name : sorted(envNames)) {
            if (name.toUpperCase(Locale.ROOT).startsWith(Setting.ENV_PREFIX) && known(name, true) == null) {
                problems.add(unknown("environment variable", name, true, knownEnv.toString()));
            }
        }
        for (String name : sorted(propertyNames)) {
            if (name.toLowerCase(Locale.ROOT).startsWith(Setting.PROPERTY_PREFIX) && known(name, false) == null) {
                problems.add(unknown("system property", name, false, knownProperties.toString()));
            }
        }
    }

    private static String unknown(String what, String name, boolean env, String known) {
        Setting guess = closest(name.substring(env ? Setting.ENV_PREFIX.length() : Setting.PROPERTY_PREFIX.length()));
        String hint = guess == null ? ""
                : " did you mean " + (env ? guess.envName() : guess.propertyName()) + "?";
        return "unknown setting " + Values.printable(name) + " (" + what + "), ignored;" + hint
                + " known settings: " + known;
    }

    private static Setting known(String name, boolean env) {
        for (Setting s : Setting.values()) {
            if (name.equals(env ? s.envName() : s.propertyName())) {
                return s;
            }
        }
        return null;
    }

    /** The setting whose name is within a few edits of {@code name}, ignoring case and separators. */
    private static Setting closest(String nameWithoutPrefix) {
        String wanted = words(nameWithoutPrefix);
        Setting best = null;
        int bestDistance = 4;
        for (Setting s : Setting.values()) {
            int d = distance(wanted, words(s.name()));
            if (d < bestDistance) {
                best = s;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Lower case with '_', '.' and '-' all as '.', so MAX_PER_HOST and max-per.host compare equal. */
    private static String words(String name) {
        return name.toLowerCase(Locale.ROOT).replace('_', '.').replace('-', '.');
    }

    /** Levenshtein distance; names are short, so the plain two-row version is plenty. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static List<String> sorted(Iterable<String> names) {
        List<String> list = new ArrayList<>();
        names.forEach(list::add);
        list.sort(null);
        return list;
    }
}

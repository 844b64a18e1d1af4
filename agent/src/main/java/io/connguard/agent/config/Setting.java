package io.connguard.agent.config;

import java.util.List;
import java.util.Locale;

/**
 * Every setting of the agent, in one list: its names, default, accepted values and meaning.
 * To add a setting, add a constant here (and, if it is new kind of value, a {@link Kind}) and a
 * getter in {@link AgentConfig}; parsing, error messages, unknown-name detection,
 * {@link AgentConfig#describe()} and the README's settings table all follow from this list
 * ({@code ReadmeSettingsTest} fails until the README's table is what this list says, and prints it).
 *
 * <p>Names are derived from the constant: {@code QUEUE_TIMEOUT} is the environment variable
 * {@code CONNGUARD_QUEUE_TIMEOUT} and the system property {@code connguard.queue.timeout}.
 */
public enum Setting {
    ENABLED(Kind.BOOLEAN, "true", "`false` installs nothing; the application runs untouched"),
    MAX_PER_HOST(Kind.COUNT, "0", "default cap on open connections to each `host:port`; 0 = no cap"),
    HOST_LIMITS(Kind.HOST_LIMITS, "",
            "per-host caps, e.g. `registry.example.com=20,*.corp.example:443=10,*=64`; the most specific"
                    + " pattern wins (see Host patterns); 0 = no cap"),
    QUEUE_TIMEOUT(Kind.DURATION, "30s",
            "how long a connect over the limit waits for a slot (never longer than the caller's own connect timeout)"),
    QUEUE_MAX(Kind.COUNT, "1000", "most connects waiting per host; one more fails at once"),
    RECLAIM_SETTLE(Kind.DURATION, "100ms",
            "an idle pooled connection is closed for a waiter of another pool only once idle this long (see What"
                    + " happens to a connect)"),
    LEAK_THRESHOLD(Kind.LEAK_THRESHOLD, "1m",
            "a connection borrowed from a pool, not returned and idle (no bytes read or written) this long is"
                    + " reported as a leak; off = never"),
    LEAK_STACKS(Kind.LEAK_STACKS, "sampled",
            "which borrows and connects carry the stack shown in leak reports: all, sampled (1 in 64, and every"
                    + " one for ten minutes after a leak), off"),
    RETRY_MAX_ATTEMPTS(Kind.ATTEMPTS, "5",
            "attempts per request including the first, for refused responses and refused connects; `1` = no retries"),
    RETRY_STATUSES(Kind.STATUSES, "429,503", "response statuses that mean \"refused, try later\" and are retried"),
    RETRY_METHODS(Kind.METHODS, "GET,HEAD",
            "request methods retried on a refused response (a refused connect is retried for every method)"),
    RETRY_BACKOFF(Kind.DURATION, "200ms",
            "the first back-off cap: before retry *n* the wait is random in [0, min(max, backoff × 2^(n−1))]"),
    RETRY_MAX_BACKOFF(Kind.DURATION, "10s", "the largest back-off cap"),
    RETRY_AFTER_MAX(Kind.DURATION, "30s",
            "a `Retry-After` up to this is waited out exactly; a longer one is not retried but passed on at once"),
    RETRY_BUDGET(Kind.PERCENT, "20",
            "per host, at most this percent of the requests in flight (and at least 10) may be retrying at once"),
    REGISTRY_HOSTS(Kind.HOST_PATTERNS, "",
            "registries whose `401` is retried when it is a refusal, not a challenge, e.g."
                    + " `harbor.example.com,*.corp.example` (see Retries)"),
    RETRY_HOSTS(Kind.HOST_PATTERNS, "",
            "hosts retried besides capped ones and registries (by default the only ones); `*` = every host"),
    LOG_LEVEL(Kind.LOG_LEVEL, "info", "how much the agent logs"),
    LOG_FILE(Kind.LOG_FILE, "",
            "append the log lines to this file (created if missing; its directory must exist) instead of stderr;"
                    + " see Logs"),
    LOG_FORMAT(Kind.LOG_FORMAT, "text", "`text` lines, or `json`: one JSON object per line, for log pipelines; see Logs"),
    PROMETHEUS_PORT(Kind.PORT, "0",
            "serve the agent's meters at `http://HOST:PORT/metrics` for Prometheus; 0 = no endpoint; see Metrics"),
    PROMETHEUS_HOST(Kind.BIND_HOST, "127.0.0.1",
            "the address that endpoint listens on (`0.0.0.0` for every interface)"),
    METRICS_BRIDGE(Kind.BOOLEAN, "true",
            "when the application has Micrometer, also register the meters in its `Metrics.globalRegistry`"
                    + " (Spring Boot feeds its registries from it); see Metrics"),
    FLEET_REDIS(Kind.REDIS_URL, "",
            "the Redis that holds the fleet's permits, e.g. `redis://user:password@redis.internal:6379`;"
                    + " credentials are never logged; see Fleet mode"),
    FLEET_LIMITS(Kind.FLEET_LIMITS, "",
            "caps on open connections for the whole fleet (every JVM with the same Redis and fleet name), e.g."
                    + " `harbor.example.com=200`; needs `CONNGUARD_FLEET_REDIS`; local caps still hold too"),
    FLEET_NAME(Kind.FLEET_NAME, "default", "the fleet's namespace in Redis: JVMs with the same name share caps"),
    FLEET_LEASE(Kind.LEASE, "15s",
            "how long a JVM's permits outlive it: renewed every third of it, back to the fleet within it after a"
                    + " crash (`kill -9`)"),
    FLEET_FALLBACK_LIMIT(Kind.COUNT, "2",
            "while Redis cannot be reached, each JVM's own cap on a fleet-capped host; 0 = no cap"),
    STRICT(Kind.BOOLEAN, "false", "refuse to start on any bad or unknown setting");

    static final String ENV_PREFIX = "CONNGUARD_";
    static final String PROPERTY_PREFIX = "connguard.";
    /** The value of {@link #LOG_FILE} that means "no file". */
    static final String STDERR = "stderr";

    /** The kinds of value a setting can hold; each knows how to parse and print its values. */
    enum Kind {
        BOOLEAN(Values.BOOLEAN_ACCEPTED),
        COUNT(Values.COUNT_ACCEPTED),
        DURATION(Durations.ACCEPTED),
        LEAK_THRESHOLD("off, or a duration of at least 1s (e.g. 30s, 5m)"),
        LEAK_STACKS(LeakStacks.ACCEPTED),
        ATTEMPTS("a whole number from 1 to " + RetryRules.MAX_ATTEMPTS),
        PERCENT("a whole number from 0 to 100"),
        STATUSES(RetryRules.STATUSES_ACCEPTED),
        METHODS(RetryRules.METHODS_ACCEPTED),
        HOST_PATTERNS("comma-separated " + HostLimits.PATTERN_ACCEPTED),
        LOG_LEVEL(LogLevel.ACCEPTED),
        LOG_FILE("a file path, or stderr"),
        LOG_FORMAT(LogFormat.ACCEPTED),
        PORT("a port number from 1 to 65535, or 0 (off)"),
        BIND_HOST("an IP address or a host name of this machine"),
        REDIS_URL(RedisUrl.ACCEPTED),
        FLEET_LIMITS("comma-separated " + HostLimits.ENTRY_ACCEPTED),
        FLEET_NAME("1 to 64 letters, digits, '.', '_' or '-'"),
        LEASE("a duration from 1s to 10m (e.g. 15s)"),
        HOST_LIMITS("comma-separated " + HostLimits.ENTRY_ACCEPTED);

        private final String accepted;

        Kind(String accepted) {
            this.accepted = accepted;
        }
    }

    private final Kind kind;
    private final String defaultValue;
    private final String description;
    private final String envName;
    private final String propertyName;

    Setting(Kind kind, String defaultValue, String description) {
        this.kind = kind;
        this.defaultValue = defaultValue;
        this.description = description;
        this.envName = ENV_PREFIX + name();
        this.propertyName = PROPERTY_PREFIX + name().toLowerCase(Locale.ROOT).replace('_', '.');
    }

    /** {@code CONNGUARD_QUEUE_TIMEOUT}. */
    public String envName() {
        return envName;
    }

    /** {@code connguard.queue.timeout}. */
    public String propertyName() {
        return propertyName;
    }

    /** {@code CONNGUARD_QUEUE_TIMEOUT (connguard.queue.timeout)}: how messages name a setting. */
    public String displayName() {
        return envName + " (" + propertyName + ")";
    }

    /** The default as the user would write it; an empty string for "nothing". */
    public String defaultValue() {
        return defaultValue;
    }

    /** What values are accepted, in words, as error messages and the README say it. */
    public String accepted() {
        return kind.accepted;
    }

    /** What the setting does, as the README's table shows it (Markdown: code in backticks). */
    public String description() {
        return description;
    }

    Kind kind() {
        return kind;
    }

    /**
     * The typed value of {@code text}: Boolean, Integer, Long (millis), LogLevel, LogFormat, String
     * (a log file) or HostLimits.
     * Host limits report bad entries to {@code problems} and never fail as a whole.
     *
     * @throws IllegalArgumentException if {@code text} is not a value of this setting
     */
    Object parse(String text, List<String> problems) {
        switch (kind) {
            case BOOLEAN: {
                Boolean value = Values.parseBoolean(text);
                if (value == null) {
                    throw new IllegalArgumentException("not a boolean");
                }
                return value;
            }
            case COUNT: {
                int value = Values.parseCount(text);
                if (value < 0) {
                    throw new IllegalArgumentException("not a count");
                }
                return value;
            }
            case DURATION:
                return Durations.parse(text);
            case LEAK_THRESHOLD: {
                if (text != null && text.trim().equalsIgnoreCase("off")) {
                    return 0L;
                }
                long millis = Durations.parse(text);
                if (millis != 0 && millis < 1_000) {
                    throw new IllegalArgumentException("'" + text.trim() + "' is too short to tell a leak from"
                            + " a slow request");
                }
                return millis;
            }
            case LEAK_STACKS:
                return LeakStacks.parse(text);
            case ATTEMPTS:
                return Values.parseRange(text, 1, RetryRules.MAX_ATTEMPTS);
            case PERCENT:
                return Values.parseRange(text, 0, 100);
            case STATUSES:
                return RetryRules.parseStatuses(text);
            case METHODS:
                return RetryRules.parseMethods(text);
            case HOST_PATTERNS:
                return HostLimits.parsePatterns(text, problems, this);
            case LOG_LEVEL:
                return LogLevel.parse(text);
            case LOG_FILE:
                return parseLogFile(text);
            case LOG_FORMAT:
                return LogFormat.parse(text);
            case PORT:
                return Values.parseRange(text, 0, 65_535);
            case BIND_HOST:
                return parseBindHost(text);
            case REDIS_URL:
                return RedisUrl.parse(text);
            case FLEET_LIMITS:
                return HostLimits.parse(text, problems, this);
            case FLEET_NAME: {
                String name = text == null ? "" : text.trim();
                if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
                    throw new IllegalArgumentException("not a fleet name");
                }
                return name;
            }
            case LEASE: {
                long millis = Durations.parse(text);
                if (millis < 1_000 || millis > 600_000) {
                    throw new IllegalArgumentException("out of range");
                }
                return millis;
            }
            default:
                return HostLimits.parse(text, problems);
        }
    }

    /** {@code value} as the user would write it, for {@link AgentConfig#describe()}. */
    @SuppressWarnings("unchecked")
    String format(Object value) {
        switch (kind) {
            case DURATION:
            case LEASE:
                return Durations.format((Long) value);
            case FLEET_LIMITS:
                return ((HostLimits) value).isEmpty() ? "none" : value.toString();
            case REDIS_URL:
                return ((RedisUrl) value).isSet() ? value.toString() : "none";
            case LEAK_THRESHOLD:
                return (Long) value == 0 ? "off" : Durations.format((Long) value);
            case LEAK_STACKS:
                return ((LeakStacks) value).label();
            case LOG_LEVEL:
                return ((LogLevel) value).label();
            case LOG_FILE:
                return ((String) value).isEmpty() ? STDERR : (String) value;
            case LOG_FORMAT:
                return ((LogFormat) value).label();
            case STATUSES:
                return RetryRules.formatStatuses((java.util.BitSet) value);
            case METHODS:
                return String.join(",", (java.util.Set<String>) value);
            case HOST_PATTERNS:
                return ((HostLimits) value).isEmpty() ? "none" : ((HostLimits) value).patternsText();
            case HOST_LIMITS:
                return ((HostLimits) value).isEmpty() ? "none" : value.toString();
            default:
                return String.valueOf(value);
        }
    }

    /**
     * A log file path as given, or "" for stderr. {@code stderr} names stderr explicitly, so that
     * {@code -Dconnguard.log.file=stderr} can override the variable (a blank value counts as unset).
     * A control character is refused: it is a quoting mistake, not a file anyone meant.
     */
    private static String parseLogFile(String text) {
        String path = text.trim();
        if (path.equals(STDERR)) {
            return "";
        }
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) < 0x20 || path.charAt(i) == 0x7f) {
                throw new IllegalArgumentException("a file path holds no control characters");
            }
        }
        return path;
    }

    /**
     * An address to listen on, as given; only its form is checked here (no name is resolved while
     * the settings are read). Brackets around an IPv6 literal are dropped.
     */
    private static String parseBindHost(String text) {
        String host = text.trim();
        if (host.length() > 2 && host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == ':' || c == '_' || c == '%')) {
                throw new IllegalArgumentException("not an address");
            }
        }
        return host;
    }

    /** {@code maxPerHost}: the key of this setting in {@link AgentConfig#describe()}. */
    String describeKey() {
        StringBuilder b = new StringBuilder();
        boolean upper = false;
        for (char c : name().toLowerCase(Locale.ROOT).toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                b.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return b.toString();
    }
}

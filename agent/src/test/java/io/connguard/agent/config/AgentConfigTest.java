package io.connguard.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class AgentConfigTest {

    /**
     * Prefix of the misspelt names these tests feed in, spelt apart so that a scan of the code for
     * setting names (the before-stop check that every CONNGUARD_ name is documented) skips them.
     */
    private static final String UNKNOWN = "CONNGUARD" + "_";


    private final Map<String, String> env = new HashMap<>();
    private final Properties properties = new Properties();

    private AgentConfig load() {
        return AgentConfig.load(env, properties);
    }

    @Test
    void defaults() {
        AgentConfig config = AgentConfig.defaults();
        assertThat(config.enabled()).isTrue();
        assertThat(config.maxPerHost()).isZero();
        assertThat(config.hostLimits().isEmpty()).isTrue();
        assertThat(config.queueTimeoutMillis()).isEqualTo(30_000);
        assertThat(config.queueMax()).isEqualTo(1000);
        assertThat(config.logLevel()).isEqualTo(LogLevel.INFO);
        assertThat(config.logFile()).isEmpty();
        assertThat(config.logFormat()).isEqualTo(LogFormat.TEXT);
        assertThat(config.prometheusPort()).as("no endpoint by default").isZero();
        assertThat(config.prometheusHost()).isEqualTo("127.0.0.1");
        assertThat(config.strict()).isFalse();
        assertThat(config.hasProblems()).isFalse();
        assertThat(config.problems()).isEmpty();
        assertThat(config.refusesToStart()).isFalse();
        assertThat(config.describe()).isEqualTo(
                "enabled=true maxPerHost=0 hostLimits=none queueTimeout=30s queueMax=1000 reclaimSettle=100ms leakThreshold=1m"
                        + " leakStacks=sampled retryMaxAttempts=5 retryStatuses=429,503 retryMethods=GET,HEAD"
                        + " retryBackoff=200ms retryMaxBackoff=10s retryAfterMax=30s retryBudget=20 registryHosts=none"
                        + " retryHosts=none"
                        + " logLevel=info logFile=stderr logFormat=text prometheusPort=0 prometheusHost=127.0.0.1 metricsBridge=true fleetRedis=none fleetLimits=none fleetName=default fleetLease=15s fleetFallbackLimit=2 strict=false");
        assertThat(AgentConfig.load(null, null).describe()).isEqualTo(config.describe());
    }

    @Test
    void readsEverySettingFromTheEnvironment() {
        env.put("CONNGUARD_ENABLED", "false");
        env.put("CONNGUARD_MAX_PER_HOST", "8");
        env.put("CONNGUARD_HOST_LIMITS", "registry.example.com=20,*.corp.example:443=10,*=64");
        env.put("CONNGUARD_QUEUE_TIMEOUT", "250ms");
        env.put("CONNGUARD_QUEUE_MAX", "0");
        env.put("CONNGUARD_LEAK_THRESHOLD", "2m");
        env.put("CONNGUARD_LEAK_STACKS", "ALL");
        env.put("CONNGUARD_LOG_LEVEL", "DEBUG");
        env.put("CONNGUARD_LOG_FILE", " /var/log/connguard.log ");
        env.put("CONNGUARD_LOG_FORMAT", "JSON");
        env.put("CONNGUARD_PROMETHEUS_PORT", "9464");
        env.put("CONNGUARD_PROMETHEUS_HOST", " 0.0.0.0 ");
        env.put("CONNGUARD_METRICS_BRIDGE", "off");
        env.put("CONNGUARD_STRICT", "yes");
        AgentConfig config = load();
        assertThat(config.problems()).isEmpty();
        assertThat(config.enabled()).isFalse();
        assertThat(config.maxPerHost()).isEqualTo(8);
        assertThat(config.queueTimeoutMillis()).isEqualTo(250);
        assertThat(config.queueMax()).isZero();
        assertThat(config.leakThresholdMillis()).isEqualTo(120_000);
        assertThat(config.leakStacks()).isEqualTo(LeakStacks.ALL);
        assertThat(config.logLevel()).isEqualTo(LogLevel.DEBUG);
        assertThat(config.logFile()).isEqualTo("/var/log/connguard.log");
        assertThat(config.logFormat()).isEqualTo(LogFormat.JSON);
        assertThat(config.prometheusPort()).isEqualTo(9464);
        assertThat(config.prometheusHost()).isEqualTo("0.0.0.0");
        assertThat(config.strict()).isTrue();
        assertThat(config.describe()).isEqualTo("enabled=false maxPerHost=8"
                + " hostLimits=registry.example.com=20,*.corp.example:443=10,*=64"
                + " queueTimeout=250ms queueMax=0 reclaimSettle=100ms leakThreshold=2m leakStacks=all retryMaxAttempts=5"
                + " retryStatuses=429,503 retryMethods=GET,HEAD retryBackoff=200ms retryMaxBackoff=10s retryAfterMax=30s"
                + " retryBudget=20 registryHosts=none retryHosts=none logLevel=debug logFile=/var/log/connguard.log logFormat=json"
                + " prometheusPort=9464 prometheusHost=0.0.0.0 metricsBridge=false fleetRedis=none fleetLimits=none fleetName=default fleetLease=15s fleetFallbackLimit=2 strict=true");
        assertThat(config).hasToString(config.describe());
    }

    static Stream<Arguments> oneValuePerSetting() {
        return Stream.of(
                Arguments.of(Setting.ENABLED, "no", "yes"),
                Arguments.of(Setting.MAX_PER_HOST, "3", "4"),
                Arguments.of(Setting.HOST_LIMITS, "a.example=1", "b.example=2"),
                Arguments.of(Setting.QUEUE_TIMEOUT, "5m", "1h"),
                Arguments.of(Setting.QUEUE_MAX, "10", "20"),
                Arguments.of(Setting.LOG_LEVEL, "trace", "off"),
                Arguments.of(Setting.LOG_FILE, "/tmp/a.log", "stderr"),
                Arguments.of(Setting.LOG_FORMAT, "json", "text"),
                Arguments.of(Setting.PROMETHEUS_PORT, "9464", "9465"),
                Arguments.of(Setting.PROMETHEUS_HOST, "0.0.0.0", "::1"),
                Arguments.of(Setting.STRICT, "on", "false"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("oneValuePerSetting")
    void propertyWinsOverEnvironmentWhichWinsOverDefault(Setting setting, String envValue, String propertyValue) {
        String defaults = load().describe();
        env.put(setting.envName(), envValue);
        String fromEnv = load().describe();
        properties.setProperty(setting.propertyName(), propertyValue);
        String fromProperty = load().describe();

        assertThat(fromEnv).isNotEqualTo(defaults).contains(envFormat(setting, envValue));
        assertThat(fromProperty).isNotEqualTo(fromEnv).contains(envFormat(setting, propertyValue));
        assertThat(load().problems()).isEmpty();
    }

    /** How describe() shows a raw value of the setting. */
    private static String envFormat(Setting setting, String raw) {
        return setting.describeKey() + "=" + setting.format(setting.parse(raw, new java.util.ArrayList<>()));
    }

    @Test
    void aBlankValueCountsAsUnset() {
        env.put("CONNGUARD_QUEUE_MAX", "5");
        properties.setProperty("connguard.queue.max", "  ");
        env.put("CONNGUARD_MAX_PER_HOST", "");
        AgentConfig config = load();
        assertThat(config.queueMax()).isEqualTo(5);
        assertThat(config.maxPerHost()).isZero();
        assertThat(config.problems()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"true", "TRUE", "yes", "Yes", "on", "ON", "1", " true "})
    void booleansAcceptManySpellingsOfTrue(String text) {
        env.put("CONNGUARD_STRICT", text);
        assertThat(load().strict()).isTrue();
        env.put("CONNGUARD_ENABLED", text);
        assertThat(load().enabled()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"false", "False", "no", "NO", "off", "Off", "0"})
    void booleansAcceptManySpellingsOfFalse(String text) {
        env.put("CONNGUARD_ENABLED", text);
        AgentConfig config = load();
        assertThat(config.enabled()).isFalse();
        assertThat(config.problems()).isEmpty();
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of(Setting.ENABLED, "maybe", "true or false (also yes/no, on/off, 1/0)", "true"),
                Arguments.of(Setting.STRICT, "2", "true or false (also yes/no, on/off, 1/0)", "false"),
                Arguments.of(Setting.MAX_PER_HOST, "-1", "a whole number from 0 to 2147483647", "0"),
                Arguments.of(Setting.MAX_PER_HOST, "1.5", "a whole number from 0 to 2147483647", "0"),
                Arguments.of(Setting.MAX_PER_HOST, "+3", "a whole number from 0 to 2147483647", "0"),
                Arguments.of(Setting.QUEUE_MAX, "lots", "a whole number from 0 to 2147483647", "1000"),
                Arguments.of(Setting.QUEUE_MAX, "2147483648", "a whole number from 0 to 2147483647", "1000"),
                Arguments.of(Setting.QUEUE_TIMEOUT, "30", "a whole number with unit ms, s, m or h", "30s"),
                Arguments.of(Setting.QUEUE_TIMEOUT, "-5s", "a whole number with unit ms, s, m or h", "30s"),
                Arguments.of(Setting.QUEUE_TIMEOUT, "5 minutes", "a whole number with unit ms, s, m or h", "30s"),
                Arguments.of(Setting.LOG_LEVEL, "verbose", "one of off, error, warn, info, debug, trace", "info"),
                Arguments.of(Setting.LOG_FORMAT, "logfmt", "one of text, json", "text"),
                Arguments.of(Setting.PROMETHEUS_PORT, "65536", "a port number from 1 to 65535, or 0 (off)", "0"),
                Arguments.of(Setting.PROMETHEUS_PORT, "http", "a port number from 1 to 65535, or 0 (off)", "0"),
                Arguments.of(Setting.PROMETHEUS_HOST, "http://0.0.0.0/", "an IP address or a host name", "127.0.0.1"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("badValues")
    void aBadValueIsOneLineNamingTheSettingTheValueAndWhatIsAcceptedAndTheDefaultApplies(
            Setting setting, String bad, String accepted, String defaultValue) {
        env.put(setting.envName(), bad);
        AgentConfig config = load();
        assertThat(config.hasProblems()).isTrue();
        assertThat(config.problems()).containsExactly(setting.envName() + " (" + setting.propertyName() + "): "
                + "invalid value '" + bad + "' from environment variable " + setting.envName()
                + "; expected " + setting.accepted() + "; using the default (" + defaultValue + ")");
        assertThat(config.problems().get(0)).contains(accepted);
        assertThat(config.describe()).isEqualTo(AgentConfig.defaults().describe());
        assertThat(config.refusesToStart()).isFalse();
    }

    @Test
    void aBadPropertyIsBlamedOnThePropertyEvenWhenTheEnvironmentIsFine() {
        env.put("CONNGUARD_QUEUE_TIMEOUT", "5s");
        properties.setProperty("connguard.queue.timeout", "soon");
        AgentConfig config = load();
        // The property is what the user meant to use, so the env var does not stand in for it.
        assertThat(config.queueTimeoutMillis()).isEqualTo(30_000);
        assertThat(config.problems()).singleElement().asString()
                .startsWith("CONNGUARD_QUEUE_TIMEOUT (connguard.queue.timeout): invalid value 'soon'"
                        + " from system property connguard.queue.timeout; expected");
    }

    @Test
    void aBadValueWithANewlineStaysOnOneLine() {
        env.put("CONNGUARD_QUEUE_MAX", "10\nrm -rf");
        assertThat(load().problems()).singleElement().asString()
                .doesNotContain("\n")
                .contains("'10\\u000arm -rf'");
    }

    @Test
    void badHostLimitEntriesAreReportedAndTheGoodOnesApply() {
        env.put("CONNGUARD_HOST_LIMITS", "registry.example.com=20, oops, *=64");
        env.put("CONNGUARD_MAX_PER_HOST", "5");
        AgentConfig config = load();
        assertThat(config.problems()).singleElement().asString()
                .startsWith("CONNGUARD_HOST_LIMITS (connguard.host.limits): invalid entry 'oops'");
        assertThat(config.limitFor("registry.example.com", 443)).isEqualTo(20);
        assertThat(config.limitFor("other.example.com", 443)).isEqualTo(64);
    }

    @Test
    void limitForFallsBackToMaxPerHost() {
        env.put("CONNGUARD_HOST_LIMITS", "registry.example.com=20");
        env.put("CONNGUARD_MAX_PER_HOST", "5");
        AgentConfig config = load();
        assertThat(config.limitFor("Registry.Example.com", 443)).isEqualTo(20);
        assertThat(config.limitFor("other.example.com", 443)).isEqualTo(5);
        assertThat(AgentConfig.defaults().limitFor("other.example.com", 443)).isZero();
    }

    @Test
    void strictRefusesToStartOnABadValue() {
        env.put("CONNGUARD_STRICT", "true");
        assertThat(load().refusesToStart()).isFalse();
        env.put("CONNGUARD_QUEUE_MAX", "many");
        AgentConfig config = load();
        assertThat(config.strict()).isTrue();
        assertThat(config.refusesToStart()).isTrue();
    }

    @Test
    void strictRefusesToStartOnABadHostLimitEntryOrAnUnknownSetting() {
        properties.setProperty("connguard.strict", "on");
        env.put("CONNGUARD_HOST_LIMITS", "a.example=x");
        assertThat(load().refusesToStart()).isTrue();
        env.remove("CONNGUARD_HOST_LIMITS");
        env.put(UNKNOWN + "QUEUE_TIMOUT", "5s");
        assertThat(load().refusesToStart()).isTrue();
    }

    @Test
    void aBadStrictValueIsItselfAProblemButStrictStaysOff() {
        env.put("CONNGUARD_STRICT", "definitely");
        AgentConfig config = load();
        assertThat(config.strict()).isFalse();
        assertThat(config.hasProblems()).isTrue();
        assertThat(config.refusesToStart()).isFalse();
    }

    @Test
    void unknownEnvironmentVariableIsReportedWithASuggestionButNotItsValue() {
        env.put(UNKNOWN + "MAX_PERHOST", "s3cr3t");
        env.put("PATH", "/usr/bin");
        env.put("MY_" + UNKNOWN + "THING", "1");
        AgentConfig config = load();
        assertThat(config.problems()).containsExactly("unknown setting " + UNKNOWN + "MAX_PERHOST (environment variable),"
                + " ignored; did you mean CONNGUARD_MAX_PER_HOST? known settings: CONNGUARD_ENABLED,"
                + " CONNGUARD_MAX_PER_HOST, CONNGUARD_HOST_LIMITS, CONNGUARD_QUEUE_TIMEOUT, CONNGUARD_QUEUE_MAX,"
                + " CONNGUARD_RECLAIM_SETTLE, CONNGUARD_LEAK_THRESHOLD, CONNGUARD_LEAK_STACKS, CONNGUARD_RETRY_MAX_ATTEMPTS,"
                + " CONNGUARD_RETRY_STATUSES, CONNGUARD_RETRY_METHODS, CONNGUARD_RETRY_BACKOFF,"
                + " CONNGUARD_RETRY_MAX_BACKOFF, CONNGUARD_RETRY_AFTER_MAX, CONNGUARD_RETRY_BUDGET,"
                + " CONNGUARD_REGISTRY_HOSTS, CONNGUARD_RETRY_HOSTS, CONNGUARD_LOG_LEVEL, CONNGUARD_LOG_FILE, CONNGUARD_LOG_FORMAT,"
                + " CONNGUARD_PROMETHEUS_PORT, CONNGUARD_PROMETHEUS_HOST, CONNGUARD_METRICS_BRIDGE, CONNGUARD_FLEET_REDIS, CONNGUARD_FLEET_LIMITS, CONNGUARD_FLEET_NAME, CONNGUARD_FLEET_LEASE, CONNGUARD_FLEET_FALLBACK_LIMIT, CONNGUARD_STRICT");
        assertThat(config.refusesToStart()).isFalse();
        assertThat(config.describe()).isEqualTo(AgentConfig.defaults().describe());
    }

    private static final String RETRY_PROPERTIES = "connguard.retry.max.attempts, connguard.retry.statuses,"
            + " connguard.retry.methods, connguard.retry.backoff, connguard.retry.max.backoff,"
            + " connguard.retry.after.max, connguard.retry.budget, connguard.registry.hosts, connguard.retry.hosts, ";

    @Test
    void unknownSystemPropertyIsReportedWithASuggestion() {
        properties.setProperty("connguard.queue.timout", "5s");
        properties.setProperty("connguard.max_per_host", "5");
        properties.setProperty("java.version", "17");
        assertThat(load().problems()).containsExactly(
                "unknown setting connguard.max_per_host (system property), ignored; did you mean"
                        + " connguard.max.per.host? known settings: connguard.enabled, connguard.max.per.host,"
                        + " connguard.host.limits, connguard.queue.timeout, connguard.queue.max,"
                        + " connguard.reclaim.settle, connguard.leak.threshold, connguard.leak.stacks, " + RETRY_PROPERTIES
                        + "connguard.log.level, connguard.log.file, connguard.log.format, connguard.prometheus.port,"
                        + " connguard.prometheus.host, connguard.metrics.bridge, connguard.fleet.redis, connguard.fleet.limits, connguard.fleet.name, connguard.fleet.lease, connguard.fleet.fallback.limit, connguard.strict",
                "unknown setting connguard.queue.timout (system property), ignored; did you mean"
                        + " connguard.queue.timeout? known settings: connguard.enabled, connguard.max.per.host,"
                        + " connguard.host.limits, connguard.queue.timeout, connguard.queue.max,"
                        + " connguard.reclaim.settle, connguard.leak.threshold, connguard.leak.stacks, " + RETRY_PROPERTIES
                        + "connguard.log.level, connguard.log.file, connguard.log.format, connguard.prometheus.port,"
                        + " connguard.prometheus.host, connguard.metrics.bridge, connguard.fleet.redis, connguard.fleet.limits, connguard.fleet.name, connguard.fleet.lease, connguard.fleet.fallback.limit, connguard.strict");
    }

    @Test
    void wrongCaseIsUnknownTooAndNothingFarFetchedIsSuggested() {
        env.put("connguard_enabled", "false");
        env.put(UNKNOWN + "COMPLETELY_DIFFERENT", "1");
        AgentConfig config = load();
        assertThat(config.enabled()).isTrue();
        assertThat(config.problems()).hasSize(2);
        assertThat(config.problems().get(0))
                .startsWith("unknown setting " + UNKNOWN + "COMPLETELY_DIFFERENT (environment variable), ignored; known");
        assertThat(config.problems().get(1))
                .startsWith("unknown setting connguard_enabled (environment variable), ignored;"
                        + " did you mean CONNGUARD_ENABLED?");
    }

    @Test
    void problemsCannotBeChangedFromOutside() {
        env.put("CONNGUARD_QUEUE_MAX", "x");
        AgentConfig config = load();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> config.problems().clear())
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void fromEnvironmentReadsSystemProperties() {
        String key = Setting.QUEUE_MAX.propertyName();
        String before = System.getProperty(key);
        System.setProperty(key, "42");
        try {
            assertThat(AgentConfig.fromEnvironment().queueMax()).isEqualTo(42);
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    @Test
    void leakThresholdIsOffOrAtLeastOneSecond() {
        env.put("CONNGUARD_LEAK_THRESHOLD", "off");
        assertThat(load().leakThresholdMillis()).isZero();
        assertThat(load().describe()).contains("leakThreshold=off");
        env.put("CONNGUARD_LEAK_THRESHOLD", "0");
        assertThat(load().leakThresholdMillis()).isZero();
        env.put("CONNGUARD_LEAK_THRESHOLD", "500ms");
        AgentConfig config = load();
        assertThat(config.leakThresholdMillis()).isEqualTo(60_000);
        assertThat(config.problems()).singleElement().asString()
                .contains("CONNGUARD_LEAK_THRESHOLD", "'500ms'", "at least 1s", "using the default (1m)");
    }

    @Test
    void badLeakStacksNamesWhatIsAccepted() {
        env.put("CONNGUARD_LEAK_STACKS", "some");
        AgentConfig config = load();
        assertThat(config.leakStacks()).isEqualTo(LeakStacks.SAMPLED);
        assertThat(config.problems()).singleElement().asString()
                .contains("CONNGUARD_LEAK_STACKS", "one of all, sampled, off");
    }

    @Test
    void logFileStderrNamesStderrSoThatAPropertyCanOverrideTheVariable() {
        env.put("CONNGUARD_LOG_FILE", "/var/log/connguard.log");
        properties.setProperty("connguard.log.file", "stderr");
        AgentConfig config = load();
        assertThat(config.logFile()).isEmpty();
        assertThat(config.describe()).contains(" logFile=stderr ");
        assertThat(config.problems()).isEmpty();
    }

    @Test
    void aLogFileWithAControlCharacterIsAMistakeAndLogsStayOnStderr() {
        env.put("CONNGUARD_LOG_FILE", "/tmp/a\nb.log");
        AgentConfig config = load();
        assertThat(config.logFile()).isEmpty();
        assertThat(config.problems()).singleElement().asString()
                .isEqualTo("CONNGUARD_LOG_FILE (connguard.log.file): invalid value '/tmp/a\\u000ab.log' from"
                        + " environment variable CONNGUARD_LOG_FILE; expected a file path, or stderr;"
                        + " using the default (empty)");
    }
}

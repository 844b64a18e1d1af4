package io.connguard.agent.metrics;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostKey;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.LocalSlotStore;
import io.connguard.agent.core.fleet.FleetBackend;
import io.connguard.agent.core.fleet.FleetCoordinator;
import io.connguard.agent.core.fleet.FleetSlotStore;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The Grafana dashboard ({@code agent/dashboards/connguard-grafana.json}) asks only for what the agent
 * exports. The exported series are not listed here: they come from a real scrape of two hosts' meters
 * (one of them fleet-capped, so the fleet meters are there too), bound by {@link HostMeters} into a
 * {@link PrometheusMeterRegistry} with a wait recorded, so renaming a meter (in the agent or in the
 * dashboard) fails this test.
 */
class GrafanaDashboardTest {

    private static final String DASHBOARD = "dashboards/connguard-grafana.json";

    /** A series name of ours in PromQL (not the tail of a longer identifier). */
    private static final Pattern METRIC = Pattern.compile("(?<![a-zA-Z0-9_:])connguard_[a-zA-Z0-9_]+");
    /** A selector's braces, with the metric name in front if there is one; {@code ${var}} is no selector. */
    private static final Pattern SELECTOR =
            Pattern.compile("(?:(?<![a-zA-Z0-9_:])([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*)?(?<!\\$)\\{([^{}]*)}");
    private static final Pattern MATCHER = Pattern.compile(
            "\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*(?:,|$)");
    private static final Pattern GROUPING =
            Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\(([^()]*)\\)");
    /** Grafana's own form: {@code label_values(label)} or {@code label_values(metric or selector, label)}. */
    private static final Pattern LABEL_VALUES =
            Pattern.compile("^\\s*label_values\\s*\\((?:(.+),\\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)\\s*$");
    private static final Pattern LEGEND_LABEL = Pattern.compile("\\{\\{\\s*([^{}\\s]+)\\s*}}");
    private static final Pattern VARIABLE =
            Pattern.compile("\\$(?:\\{([a-zA-Z0-9_]+)(?::[^}]*)?}|([a-zA-Z0-9_]+)|\\[\\[([a-zA-Z0-9_]+)(?::[^]]*)?]])");
    private static final Pattern SAMPLE_LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Set<String> GRAFANA_VARIABLES = Set.of("__rate_interval", "__interval", "__interval_ms",
            "__range", "__range_s", "__range_ms");
    /** Labels Prometheus adds to every series it scrapes; the agent's text does not carry them. */
    private static final Set<String> TARGET_LABELS = Set.of("job", "instance");

    private static Scrape scrape;
    private static JsonNode dashboard;
    private static List<Query> queries;

    @BeforeAll
    static void load() throws IOException {
        scrape = Scrape.of(agentScrape());
        dashboard = JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build()
                .readTree(dashboardFile().toFile());
        queries = queries(dashboard);
    }

    /**
     * What a Prometheus server would read from the agent for two destinations, after one wait: one with a
     * local limit only, and one with a fleet-wide cap (so the fleet meters are in the scrape too), its
     * permits granted by an in-test fleet backend that grants whatever is asked.
     */
    private static String agentScrape() {
        FleetCoordinator fleet = new FleetCoordinator(new FleetBackend() {
            @Override
            public Sync sync(HostKey host, int cap, int held, int pending, int extra) {
                return new Sync(pending + extra, held + pending + extra, 0);
            }

            @Override
            public String describe() {
                return "test store";
            }
        }, 2, 10_000, new FleetCoordinator.Events() {
        }, r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        try {
            Governor governor = new Governor((h, p) -> 2, new FleetSlotStore(new LocalSlotStore(),
                    (h, p) -> h.equals("harbor.internal") ? 8 : 0, fleet), 100, 10, new Governor.Listener() {
            });
            HostState host = governor.host("db.internal", 5432);
            // One connect to the fleet-capped destination: its permit exchange sets in use and the latency.
            Object connection = new Object();
            assertThat(governor.beforeConnect(connection, "harbor.internal", 443, 1_000, true))
                    .isNotInstanceOf(Exception.class);
            HostState fleetHost = governor.host("harbor.internal", 443);
            assertThat(fleetHost.fleet()).as("harbor.internal has a fleet cap").isNotNull();
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            HostMeters.bind(registry, host);
            HostMeters.bind(registry, fleetHost);
            // Into every timer bound, whatever bind returns: the count, sum, max and quantiles all appear.
            for (Meter meter : registry.getMeters()) {
                if (meter instanceof Timer timer) {
                    timer.record(Duration.ofMillis(25));
                }
            }
            String text = registry.scrape();
            governor.closed(connection);
            return text;
        } finally {
            fleet.stop();
        }
    }

    @Test
    void theScrapeHasTheSeriesAndLabelsTheChecksRelyOn() {
        assertThat(scrape.series).as("series in the agent's scrape").isNotEmpty();
        assertThat(queries).as("queries in the dashboard").hasSizeGreaterThan(5);
    }

    @Test
    void everyQueryNamesOnlySeriesTheAgentExports() {
        List<String> problems = new ArrayList<>();
        for (Query q : queries) {
            Set<String> metrics = metrics(q.expr);
            if (metrics.isEmpty()) {
                problems.add(q + ": names no connguard_ series");
            }
            for (String metric : metrics) {
                if (!scrape.series.containsKey(metric)) {
                    problems.add(q + ": " + metric + " is not in the agent's scrape");
                }
            }
        }
        assertThat(problems).as("exported: %s", scrape.series.keySet()).isEmpty();
    }

    @Test
    void everyLabelAndFixedLabelValueInTheQueriesIsExported() {
        Set<String> labels = new TreeSet<>(TARGET_LABELS);
        scrape.series.values().forEach(l -> labels.addAll(l.keySet()));
        Set<String> variables = new HashSet<>(GRAFANA_VARIABLES);
        dashboard.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
        List<String> problems = new ArrayList<>();
        for (Query q : queries) {
            Matcher s = SELECTOR.matcher(q.expr);
            while (s.find()) {
                String metric = s.group(1);
                Map<String, Set<String>> allowed = metric != null && scrape.series.containsKey(metric)
                        ? scrape.series.get(metric) : scrape.allLabels();
                checkMatchers(q, metric, s.group(2), allowed, problems);
            }
            Matcher g = GROUPING.matcher(q.expr);
            while (g.find()) {
                for (String label : g.group(2).split(",")) {
                    label = label.strip();
                    if (!label.isEmpty() && !labels.contains(label)) {
                        problems.add(q + ": " + g.group(1) + " (" + label + ") but no exported series has " + label);
                    }
                }
            }
            Matcher lv = LABEL_VALUES.matcher(q.expr);
            if (q.expr.strip().startsWith("label_values")) {
                if (!lv.matches()) {
                    problems.add(q + ": not label_values([metric,] label)");
                } else if (lv.group(1) == null) {
                    problems.add(q + ": label_values(" + lv.group(2) + ") without a connguard_ series");
                } else {
                    Set<String> onMetric = new TreeSet<>(TARGET_LABELS);
                    metrics(lv.group(1)).forEach(m -> onMetric.addAll(scrape.series.getOrDefault(m, Map.of()).keySet()));
                    if (!onMetric.contains(lv.group(2))) {
                        problems.add(q + ": label_values of " + lv.group(2) + ", a label " + lv.group(1)
                                + " does not have");
                    }
                }
            }
            Matcher l = LEGEND_LABEL.matcher(q.legend);
            while (l.find()) {
                if (!labels.contains(l.group(1))) {
                    problems.add(q + ": legend {{" + l.group(1) + "}} but no exported series has that label");
                }
            }
            Matcher v = VARIABLE.matcher(q.expr + " " + q.legend);
            while (v.find()) {
                String name = v.group(1) != null ? v.group(1) : v.group(2) != null ? v.group(2) : v.group(3);
                if (!variables.contains(name)) {
                    problems.add(q + ": $" + name + " is no dashboard variable");
                }
            }
        }
        assertThat(problems).as("labels exported: %s", scrape.allLabels()).isEmpty();
    }

    private static void checkMatchers(Query q, String metric, String body, Map<String, Set<String>> allowed,
                                      List<String> problems) {
        String on = metric == null ? "a selector" : metric;
        Matcher m = MATCHER.matcher(body);
        int end = 0;
        while (end < body.length() && m.find(end) && m.start() == end) {
            end = m.end();
            String label = m.group(1);
            String op = m.group(2);
            String value = m.group(3);
            if (TARGET_LABELS.contains(label)) {
                if (!value.contains("$")) {
                    problems.add(q + ": " + label + op + "\"" + value + "\" is fixed; use the dashboard variable");
                }
                continue;
            }
            Set<String> values = allowed.get(label);
            if (values == null) {
                problems.add(q + ": " + on + " has no label " + label + " (it has " + allowed.keySet() + ")");
            } else if (value.contains("$")) {
                continue; // a dashboard variable, its values come from label_values
            } else if (op.equals("=") || op.equals("!=")) {
                if (!values.contains(value)) {
                    problems.add(q + ": " + label + op + "\"" + value + "\" but " + on + " has " + label + " " + values);
                }
            } else {
                for (String alternative : value.split("\\|")) {
                    try {
                        Pattern p = Pattern.compile(alternative);
                        if (values.stream().noneMatch(x -> p.matcher(x).matches())) {
                            problems.add(q + ": " + label + op + "\"" + value + "\": " + alternative
                                    + " matches none of " + values);
                        }
                    } catch (PatternSyntaxException e) {
                        problems.add(q + ": " + label + op + "\"" + value + "\" is no regular expression");
                    }
                }
            }
        }
        if (!body.substring(end).isBlank()) {
            problems.add(q + ": cannot read the matchers {" + body + "}");
        }
    }

    @Test
    void panelsHaveUniqueIdsTitlesPlacesAndTheTemplatedDatasource() {
        List<String> problems = new ArrayList<>();
        assertThat(dashboard.path("uid").asText()).isNotBlank();
        assertThat(dashboard.path("title").asText()).isNotBlank();
        assertThat(dashboard.path("schemaVersion").asInt()).as("Grafana 10 or later").isGreaterThanOrEqualTo(38);

        JsonNode dsVar = null;
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (v.path("type").asText().equals("datasource")) {
                dsVar = v;
            }
        }
        assertThat(dsVar).as("a templated datasource variable").isNotNull();
        assertThat(dsVar.path("query").asText()).isEqualTo("prometheus");
        String dsUid = "${" + dsVar.path("name").asText() + "}";
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (v.path("type").asText().equals("query")) {
                checkDatasource("variable $" + v.path("name").asText(), v.path("datasource"), dsUid, problems);
            }
        }

        Set<Integer> ids = new HashSet<>();
        List<JsonNode> levels = new ArrayList<>();
        levels.add(dashboard.path("panels"));
        dashboard.path("panels").forEach(p -> {
            if (p.has("panels") && !p.path("panels").isEmpty()) {
                levels.add(p.path("panels"));
            }
        });
        assertThat(dashboard.path("panels").size()).isGreaterThan(0);
        for (JsonNode level : levels) {
            List<int[]> boxes = new ArrayList<>();
            for (JsonNode p : level) {
                String where = "panel " + p.path("id") + " '" + p.path("title").asText() + "'";
                if (!p.path("id").isInt() || !ids.add(p.path("id").asInt())) {
                    problems.add(where + ": no id, or the id of another panel");
                }
                if (p.path("title").asText().isBlank()) {
                    problems.add(where + ": no title");
                }
                JsonNode pos = p.path("gridPos");
                int[] box = {pos.path("x").asInt(-1), pos.path("y").asInt(-1), pos.path("w").asInt(0), pos.path("h").asInt(0)};
                if (!pos.path("x").isInt() || !pos.path("y").isInt() || box[0] < 0 || box[1] < 0 || box[2] <= 0
                        || box[3] <= 0 || box[0] + box[2] > 24) {
                    problems.add(where + ": gridPos " + pos + " is not a place on the 24-column grid");
                }
                for (int[] other : boxes) {
                    if (box[0] < other[0] + other[2] && other[0] < box[0] + box[2]
                            && box[1] < other[1] + other[3] && other[1] < box[1] + box[3]) {
                        problems.add(where + ": overlaps the panel at " + other[0] + "," + other[1]);
                    }
                }
                boxes.add(box);
                if (p.path("type").asText().equals("row")) {
                    continue;
                }
                checkDatasource(where, p.path("datasource"), dsUid, problems);
                if (p.path("targets").isEmpty()) {
                    problems.add(where + ": no queries");
                }
                Set<String> refIds = new HashSet<>();
                for (JsonNode t : p.path("targets")) {
                    if (t.path("refId").asText().isBlank() || !refIds.add(t.path("refId").asText())) {
                        problems.add(where + ": a target without a refId of its own");
                    }
                    if (t.has("datasource")) {
                        checkDatasource(where + " target " + t.path("refId").asText(), t.path("datasource"), dsUid,
                                problems);
                    }
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    private static void checkDatasource(String where, JsonNode ds, String uid, List<String> problems) {
        if (!ds.path("type").asText().equals("prometheus") || !ds.path("uid").asText().equals(uid)) {
            problems.add(where + ": datasource " + ds + " is not the templated " + uid);
        }
    }

    // --- the dashboard's queries -----------------------------------------------------------------

    /** Where a query is, its PromQL, and the legend it draws with ("" for variables). */
    private record Query(String where, String expr, String legend) {
        @Override
        public String toString() {
            return where;
        }
    }

    private static List<Query> queries(JsonNode dashboard) {
        List<Query> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        collectPanelQueries(dashboard.path("panels"), out, problems);
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (!v.path("type").asText().equals("query")) {
                continue;
            }
            String where = "variable $" + v.path("name").asText();
            JsonNode query = v.path("query");
            String expr = query.isObject() ? query.path("query").asText() : query.asText();
            if (expr.isBlank()) {
                problems.add(where + ": no query");
            } else {
                out.add(new Query(where, expr, ""));
            }
            if (!v.path("definition").asText().isBlank()) {
                out.add(new Query(where + " (definition)", v.path("definition").asText(), ""));
            }
        }
        assertThat(problems).isEmpty();
        return out;
    }

    private static void collectPanelQueries(JsonNode panels, List<Query> out, List<String> problems) {
        for (JsonNode p : panels) {
            String where = "panel " + p.path("id") + " '" + p.path("title").asText() + "'";
            for (JsonNode t : p.path("targets")) {
                String expr = t.path("expr").asText();
                if (expr.isBlank()) {
                    problems.add(where + " target " + t.path("refId").asText() + ": no expr");
                } else {
                    out.add(new Query(where + " target " + t.path("refId").asText(), expr,
                            t.path("legendFormat").asText()));
                }
            }
            collectPanelQueries(p.path("panels"), out, problems);
        }
    }

    private static Set<String> metrics(String expr) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = METRIC.matcher(expr);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    /** {@code dashboards/} sits in the agent module, whose directory its tests run in (Maven's basedir). */
    private static Path dashboardFile() {
        List<Path> starts = new ArrayList<>();
        if (System.getProperty("basedir") != null) {
            starts.add(Paths.get(System.getProperty("basedir")));
        }
        starts.add(Paths.get(System.getProperty("user.dir")));
        for (Path start : starts) {
            for (Path dir = start.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
                Path file = dir.resolve(DASHBOARD);
                if (Files.isRegularFile(file)) {
                    return file;
                }
            }
        }
        return fail("no " + DASHBOARD + " above " + starts);
    }

    // --- the agent's scrape ----------------------------------------------------------------------

    /** Every sample name in a Prometheus text scrape, with its labels and the values each takes. */
    private record Scrape(Map<String, Map<String, Set<String>>> series) {

        static Scrape of(String text) {
            Map<String, Map<String, Set<String>>> series = new TreeMap<>();
            for (String line : text.split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int brace = line.indexOf('{');
                int space = line.indexOf(' ');
                int nameEnd = brace >= 0 && (space < 0 || brace < space) ? brace : space;
                Map<String, Set<String>> labels = series.computeIfAbsent(line.substring(0, nameEnd), n -> new TreeMap<>());
                if (nameEnd == brace) {
                    Matcher m = SAMPLE_LABEL.matcher(line.substring(brace + 1, line.lastIndexOf('}')));
                    while (m.find()) {
                        labels.computeIfAbsent(m.group(1), l -> new TreeSet<>()).add(m.group(2));
                    }
                }
            }
            return new Scrape(series);
        }

        Map<String, Set<String>> allLabels() {
            Map<String, Set<String>> all = new TreeMap<>();
            series.values().forEach(labels -> labels.forEach(
                    (label, values) -> all.computeIfAbsent(label, l -> new TreeSet<>()).addAll(values)));
            return all;
        }
    }
}

package io.connguard.it;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A {@link io.connguard.testapps.client.RetryApp} plan and what the app printed for it: the
 * requests of each step, the step's ConnGuard retry counters ({@code STEPJMX}) and the agent's log
 * lines written while the step ran (stderr between {@code retryapp: step <name> begin} and
 * {@code ... end}).
 */
final class RetryRun {

    /** The client kinds of RetryApp and the name ConnGuard gives each in its log lines. */
    static final Map<String, String> CLIENTS = clients();

    private static Map<String, String> clients() {
        Map<String, String> clients = new LinkedHashMap<>();
        clients.put("url", "HttpURLConnection");
        clients.put("jdk", "java.net.http.HttpClient");
        clients.put("jdk-async", "java.net.http.HttpClient");
        clients.put("apache4", "Apache HttpClient 4");
        clients.put("wagon", "Apache HttpClient 4");
        clients.put("apache5", "Apache HttpClient 5");
        clients.put("okhttp", "OkHttp");
        return clients;
    }

    /** Builds the {@code --plan} argument: steps of {@code key=value} fields. */
    static final class Plan {
        private final List<String> steps = new ArrayList<>();

        /** {@code fields}: name, url (required), client, method, auth, threads, requests, timeoutMs. */
        Plan step(Map<String, Object> fields) {
            String text = fields.entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining("|"));
            if (text.contains(";")) {
                throw new IllegalArgumentException("a plan step cannot contain ';': " + text);
            }
            steps.add(text);
            return this;
        }

        boolean isEmpty() {
            return steps.isEmpty();
        }

        String text() {
            return String.join(";", steps);
        }
    }

    /** One request's outcome: a status with its answer, or an error. */
    record Req(String step, String client, int status, int bytes, long ms, String refusal, String retryAfter,
               String wwwAuthenticate, String body, String error, boolean connectFailure) {

        boolean isError() {
            return error != null;
        }

        @Override
        public String toString() {
            return error != null ? "error after " + ms + " ms: " + error
                    : "status " + status + " after " + ms + " ms (X-Refusal " + refusal + ", " + bytes + " bytes)";
        }
    }

    private final AppOutput out;

    RetryRun(AppOutput out) {
        this.out = out;
    }

    AppOutput output() {
        return out;
    }

    /** Every request of {@code step}, in the order they ended. */
    List<Req> requests(String step) {
        List<Req> requests = new ArrayList<>();
        for (String line : out.lines()) {
            if (line.startsWith("REQ step=" + step + " ")) {
                requests.add(parse(line));
            }
        }
        return requests;
    }

    /** The single request of {@code step}; fails when it has none or several. */
    Req request(String step) {
        List<Req> requests = requests(step);
        if (requests.size() != 1) {
            throw new AssertionError("step " + step + " made " + requests.size() + " requests, expected 1\n" + out.describe());
        }
        return requests.get(0);
    }

    static Req parse(String line) {
        String error = null;
        String text = line;
        int at = line.indexOf(" error=");
        if (at >= 0) {
            error = line.substring(at + " error=".length());
            text = line.substring(0, at);
        }
        Map<String, String> v = AppOutput.keyValues(text.substring("REQ ".length()));
        return new Req(v.get("step"), v.get("client"),
                error == null ? Integer.parseInt(v.get("status")) : -1,
                error == null ? Integer.parseInt(v.get("bytes")) : -1,
                Long.parseLong(v.get("ms")),
                v.get("refusal"),
                decode(v.get("retryAfter")), decode(v.get("wwwAuth")), decode(v.get("body")),
                error, "true".equals(v.get("connect")));
    }

    private static String decode(String value) {
        if (value == null || value.equals("-")) {
            return null;
        }
        return new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8);
    }

    /** The {@code STEPRESULT} tokens of {@code step}. */
    Map<String, String> stepResult(String step) {
        return out.lines().stream().filter(l -> l.startsWith("STEPRESULT name=" + step + " ")).findFirst()
                .map(l -> AppOutput.keyValues(l.substring("STEPRESULT ".length())))
                .orElseThrow(() -> new AssertionError("no STEPRESULT for step " + step + "\n" + out.describe()));
    }

    /** The {@code STEPJMX} tokens of {@code step}. */
    Map<String, String> stepJmx(String step) {
        return out.lines().stream().filter(l -> l.startsWith("STEPJMX name=" + step + " ")).findFirst()
                .map(l -> AppOutput.keyValues(l.substring("STEPJMX ".length())))
                .orElseThrow(() -> new AssertionError("no STEPJMX for step " + step + "\n" + out.describe()));
    }

    /**
     * How much {@code attribute} (Retries, RetriesExhausted, RetryBudgetExceeded) of the step's host
     * grew during {@code step}: its value after the step minus its value after the previous step on
     * the same host:port (0 before the first). Empty when the MBean or the attribute is missing.
     */
    Optional<Long> jmxDelta(String step, String attribute) {
        List<Map<String, String>> all = out.lines().stream().filter(l -> l.startsWith("STEPJMX "))
                .map(l -> AppOutput.keyValues(l.substring("STEPJMX ".length()))).collect(Collectors.toList());
        return number(stepJmx(step).get(attribute)).map(now -> now - previousOf(all, step, attribute));
    }

    private long previousOf(List<Map<String, String>> all, String step, String attribute) {
        Map<String, String> target = stepJmx(step);
        long previous = 0;
        for (Map<String, String> jmx : all) {
            if (jmx.get("name").equals(step)) {
                break;
            }
            if (jmx.get("host").equals(target.get("host")) && jmx.get("port").equals(target.get("port"))) {
                previous = number(jmx.get(attribute)).orElse(previous);
            }
        }
        return previous;
    }

    private static Optional<Long> number(String value) {
        try {
            return value == null ? Optional.empty() : Optional.of(Long.parseLong(value));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The lines containing {@code connguard} that the app wrote to stderr while {@code step} ran. */
    List<String> agentLines(String step) {
        List<String> lines = new ArrayList<>();
        boolean in = false;
        for (String line : out.stderrLines()) {
            if (line.equals("retryapp: step " + step + " begin")) {
                in = true;
            } else if (line.equals("retryapp: step " + step + " end")) {
                in = false;
            } else if (in && line.contains("connguard")) {
                lines.add(line);
            }
        }
        return lines;
    }

    /** The {@code retry [exhausted]} lines of {@code step}. */
    List<String> exhaustedLines(String step) {
        return agentLines(step).stream().filter(l -> l.contains("retry [exhausted]")).collect(Collectors.toList());
    }

    /** Every line of the app's stderr containing {@code marker}. */
    List<String> stderrLines(String marker) {
        return out.stderrLines().stream().filter(l -> l.contains(marker)).collect(Collectors.toList());
    }

    String stderr() {
        return String.join("\n", out.stderrLines());
    }

    /** For assertion messages: stdout and the agent's lines. */
    String describe() {
        return out.describe() + "\nstderr (connguard lines):\n"
                + out.stderrLines().stream().filter(l -> l.contains("connguard") || l.startsWith("retryapp:"))
                .collect(Collectors.joining("\n"));
    }
}

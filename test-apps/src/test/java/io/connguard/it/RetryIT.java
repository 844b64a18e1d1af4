package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.connguard.testapps.client.RetryApp;
import io.connguard.testapps.server.RefusingHandler;

/**
 * Response-level retries, per client (HttpURLConnection, java.net.http.HttpClient sync and async,
 * Apache HttpClient 4, wagon-http's relocated HttpClient 4, Apache HttpClient 5, OkHttp), against
 * the Harbor-like server's {@code /refuse/<id>} endpoint, which refuses the first N requests of an
 * id and counts what it saw.
 *
 * <p>One application JVM per client runs every {@link Case} in turn (one request each, one shared
 * client in its default configuration) with {@code CONNGUARD_RETRY_MAX_ATTEMPTS=3}, a short
 * back-off (20 ms, at most 100 ms) and {@code CONNGUARD_REGISTRY_HOSTS=127.0.0.1}. For every case
 * the test knows what the caller must see and how many requests the server must have seen:
 * <ul>
 *   <li>retried by the agent (GET and HEAD refused with 429 or 503; a registry host's 401 to a
 *       request with credentials that has no usable challenge or a database-error body): up to 3
 *       attempts, so "refused twice" ends in a 200 after 3 requests, "always refused" in the last 503
 *       after exactly 3, unchanged, with one {@code retry [exhausted]} line and the JMX counters;
 *       a {@code Retry-After: 1} is waited out;</li>
 *   <li>not retried (POST, PUT, a real challenge with an ordinary body, a 401 to an anonymous
 *       request): the refusal is passed on at once, the server saw what it sees without the agent.</li>
 * </ul>
 * A client's own retries are part of the model: Apache HttpClient 5's default
 * {@code DefaultHttpRequestRetryStrategy} repeats a 429 or 503 once by itself, after its
 * {@code Retry-After} or 1 s, for any method whose body is repeatable (POST and PUT with a byte
 * array included), so for that client every 429/503 attempt may be two server requests, with or
 * without the agent. No other client here repeats a status.
 *
 * <p>The same plan without the agent (all clients in one JVM) shows that only the agent retries;
 * a JVM whose {@code CONNGUARD_REGISTRY_HOSTS} does not match 127.0.0.1:PORT shows that a
 * non-registry host's 401 is passed through, while its 503s are still retried. No log line ever
 * shows the credentials or the query string.
 */
class RetryIT {

    static final int MAX_ATTEMPTS = 3;
    static final String SECRET = "secret-token-123";
    static final String AUTH = "Bearer " + SECRET;
    /** In every URL's query string; must never reach the log. */
    static final String QUERY_SECRET = "query-secret-789";

    /** A pass-through refusal must reach the caller at once; the JVM is warm by then (earlier steps). */
    static final long PASS_THROUGH_MAX_MS = 500;
    /** {@code Retry-After: 1} is honoured exactly: at least this long between the two requests (clock slack). */
    static final long RETRY_AFTER_MIN_MS = 950;

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(0, 0);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    /** One request the server refuses {@code fail} times, and how. */
    enum Case {
        TWICE_503("GET", false, 2, 503, null, null, null),
        RETRY_AFTER_429("GET", false, 1, 429, "1", null, null),
        HEAD_503("HEAD", false, 1, 503, null, null, null),
        ALWAYS_503("GET", true, 1_000_000, 503, null, null, null),
        POST_503("POST", false, 1, 503, null, null, null),
        PUT_503("PUT", false, 1, 503, null, null, null),
        REGISTRY_401_DB_NO_CHALLENGE("GET", true, 2, 401, null, "none", "db"),
        REGISTRY_401_BLANK_CHALLENGE("GET", true, 1, 401, null, "empty", "plain"),
        REGISTRY_401_CHALLENGE_DB_BODY("GET", true, 1, 401, null, "bearer", "db"),
        CHALLENGE_401_WITH_CREDENTIALS("GET", true, 1, 401, null, "bearer", "plain"),
        ANONYMOUS_401_CHALLENGE("GET", false, 1, 401, null, "bearer", "plain"),
        ANONYMOUS_401_DB_NO_CHALLENGE("GET", false, 1, 401, null, "none", "db");

        final String method;
        final boolean auth;
        final int fail;
        final int status;
        final String retryAfter;
        final String challenge;
        final String body;

        Case(String method, boolean auth, int fail, int status, String retryAfter, String challenge, String body) {
            this.method = method;
            this.auth = auth;
            this.fail = fail;
            this.status = status;
            this.retryAfter = retryAfter;
            this.challenge = challenge;
            this.body = body;
        }

        String step() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        String query() {
            StringBuilder q = new StringBuilder("fail=").append(fail).append("&status=").append(status);
            if (retryAfter != null) {
                q.append("&retryAfter=").append(retryAfter);
            }
            if (challenge != null) {
                q.append("&challenge=").append(challenge);
            }
            if (body != null) {
                q.append("&body=").append(body);
            }
            return q.append("&sig=").append(QUERY_SECRET).toString();
        }

        /** Whether the agent's rules retry this request, on a registry host or not. */
        boolean agentRetries(boolean registryHost) {
            if (!method.equals("GET") && !method.equals("HEAD")) {
                return false;
            }
            if (status == 429 || status == 503) {
                return true;
            }
            boolean refusalLooking = "none".equals(challenge) || "empty".equals(challenge) || "db".equals(body);
            return status == 401 && registryHost && auth && refusalLooking;
        }

        /** Requests per attempt that the client itself makes: Apache HttpClient 5 repeats a 429/503 once. */
        int nativeAttempts(String client) {
            return client.equals("apache5") && (status == 429 || status == 503) ? 2 : 1;
        }

        /** How many requests the server sees for this case at most. */
        int capacity(String client, boolean agent, boolean registryHost) {
            return (agent && agentRetries(registryHost) ? MAX_ATTEMPTS : 1) * nativeAttempts(client);
        }

        int expectedCount(String client, boolean agent, boolean registryHost) {
            return Math.min(fail + 1, capacity(client, agent, registryHost));
        }

        int expectedStatus(String client, boolean agent, boolean registryHost) {
            return fail < capacity(client, agent, registryHost) ? 200 : status;
        }

        String expectedChallenge() {
            return switch (challenge == null ? "none" : challenge) {
                case "bearer" -> RefusingHandler.BEARER_CHALLENGE;
                case "empty" -> "";
                default -> null;
            };
        }

        /**
         * HttpURLConnection cannot read a 401 whose {@code WWW-Authenticate} is blank: it throws
         * {@code IllegalArgumentException: invalid start or end} (wrapped in a RuntimeException) from
         * its authentication header parser. So its caller gets that error whenever such a 401 is the
         * answer it is handed.
         */
        boolean expectedError(String client, boolean agent, boolean registryHost) {
            return client.equals("url") && "empty".equals(challenge) && expectedStatus(client, agent, registryHost) != 200;
        }
    }

    static Stream<Arguments> jdk17Clients() {
        return RetryRun.CLIENTS.keySet().stream().map(c -> Arguments.of(c, 17));
    }

    static Stream<Arguments> jdk25Clients() {
        return Stream.of("url", "jdk", "jdk-async").map(c -> Arguments.of(c, 25));
    }

    @ParameterizedTest(name = "{0} jdk{1}")
    @MethodSource({"jdk17Clients", "jdk25Clients"})
    void refusalsAreRetriedByTheRules(String client, int jdk) {
        String prefix = "r" + Long.toString(System.nanoTime(), 36) + "-" + client;
        RetryRun.Plan plan = new RetryRun.Plan();
        for (Case c : Case.values()) {
            plan.step(step(c.step(), client, c, prefix));
        }
        RetryRun run = new RetryRun(jvms.run(agentJvm(jdk, "127.0.0.1").args("--plan", plan.text(), "--jmx")));

        SoftAssertions soft = new SoftAssertions();
        for (Case c : Case.values()) {
            check(soft, run, c.step(), client, c, prefix + "-" + c.step(), true, true);
        }
        checkNoSecretsLogged(soft, run);
        soft.assertAll();
    }

    /** All clients, one JVM, no agent: every refusal reaches the caller after the client's own attempts only. */
    @Test
    void withoutTheAgentOnlyTheClientsOwnRetriesHappen() {
        String prefix = "n" + Long.toString(System.nanoTime(), 36);
        RetryRun.Plan plan = new RetryRun.Plan();
        for (String client : RetryRun.CLIENTS.keySet()) {
            for (Case c : Case.values()) {
                plan.step(step(client + "-" + c.step(), client, c, prefix + "-" + client));
            }
        }
        RetryRun run = new RetryRun(jvms.run(jvms.java(17).main(RetryApp.class).args("--plan", plan.text(), "--jmx")));

        SoftAssertions soft = new SoftAssertions();
        for (String client : RetryRun.CLIENTS.keySet()) {
            for (Case c : Case.values()) {
                check(soft, run, client + "-" + c.step(), client, c, prefix + "-" + client + "-" + c.step(), false, true);
            }
        }
        soft.assertThat(run.stderrLines("connguard")).as("no agent, no connguard lines").isEmpty();
        soft.assertAll();
    }

    /**
     * {@code CONNGUARD_REGISTRY_HOSTS} names other hosts (and 127.0.0.1 on another port): the
     * Harbor-style 401s are passed through untouched, the 503s still retried.
     */
    @Test
    void aNonRegistryHostsUnauthorizedIsPassedThrough() {
        String prefix = "x" + Long.toString(System.nanoTime(), 36);
        List<Case> cases = List.of(Case.TWICE_503, Case.REGISTRY_401_DB_NO_CHALLENGE, Case.REGISTRY_401_BLANK_CHALLENGE,
                Case.REGISTRY_401_CHALLENGE_DB_BODY);
        RetryRun.Plan plan = new RetryRun.Plan();
        for (String client : RetryRun.CLIENTS.keySet()) {
            for (Case c : cases) {
                plan.step(step(client + "-" + c.step(), client, c, prefix + "-" + client));
            }
        }
        RetryRun run = new RetryRun(jvms.run(agentJvm(17, "registry.example.com,*.corp.example,127.0.0.1:1")
                .args("--plan", plan.text(), "--jmx")));

        SoftAssertions soft = new SoftAssertions();
        for (String client : RetryRun.CLIENTS.keySet()) {
            for (Case c : cases) {
                check(soft, run, client + "-" + c.step(), client, c, prefix + "-" + client + "-" + c.step(), true, false);
            }
        }
        checkNoSecretsLogged(soft, run);
        soft.assertAll();
    }

    private JvmProcess.Builder agentJvm(int jdk, String registryHosts) {
        return jvms.java(jdk).agent()
                .env("CONNGUARD_RETRY_MAX_ATTEMPTS", String.valueOf(MAX_ATTEMPTS))
                .env("CONNGUARD_RETRY_BACKOFF", "20ms")
                .env("CONNGUARD_RETRY_MAX_BACKOFF", "100ms")
                .env("CONNGUARD_REGISTRY_HOSTS", registryHosts)
                .main(RetryApp.class);
    }

    private static Map<String, Object> step(String name, String client, Case c, String idPrefix) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("name", name);
        fields.put("client", client);
        fields.put("method", c.method);
        fields.put("url", SERVER.refuseUrl(idPrefix + "-" + c.step(), c.query()));
        if (c.auth) {
            fields.put("auth", AUTH);
        }
        fields.put("timeoutMs", 20_000);
        return fields;
    }

    /** Everything the caller, the server, the log and JMX must show for one case. */
    static void check(SoftAssertions soft, RetryRun run, String step, String client, Case c, String id,
                      boolean agent, boolean registryHost) {
        String what = step + " (" + client + (agent ? ", agent" : ", no agent") + (registryHost ? "" : ", not a registry host") + ")";
        RetryRun.Req req = run.request(step);
        HarborServer.RefuseStats seen = SERVER.refuseStats(id);
        int expectedStatus = c.expectedStatus(client, agent, registryHost);
        int expectedCount = c.expectedCount(client, agent, registryHost);
        boolean retried = agent && c.agentRetries(registryHost);
        boolean head = c.method.equals("HEAD");

        if (c.expectedError(client, agent, registryHost)) {
            soft.assertThat(req.error()).as(what + ": HttpURLConnection fails on a blank challenge")
                    .contains("IllegalArgumentException");
            soft.assertThat(seen.count()).as(what + ": requests the server saw").isEqualTo(expectedCount);
            return;
        }
        soft.assertThat(req.error()).as(what + ": the request failed").isNull();
        soft.assertThat(req.status()).as(what + ": status the caller got; " + req + "; server saw " + seen).isEqualTo(expectedStatus);
        soft.assertThat(seen.count()).as(what + ": requests the server saw " + seen.methods() + " at " + seen.atMs() + " ms")
                .isEqualTo(expectedCount);
        soft.assertThat(seen.methods()).as(what + ": methods the server saw").allMatch(m -> m.equals(c.method));
        soft.assertThat(seen.auth()).as(what + ": requests that carried the Authorization header")
                .isEqualTo(c.auth ? seen.count() : 0);
        if (req.isError()) {
            return;
        }
        if (expectedStatus == 200) {
            soft.assertThat(req.body()).as(what + ": body of the 200").isEqualTo(head ? "" : RefusingHandler.okBody(id));
        } else {
            // The caller sees the last refusal, unchanged: its number, its body, its headers.
            soft.assertThat(req.refusal()).as(what + ": X-Refusal of the answer (the last refusal is #" + seen.count() + ")")
                    .isEqualTo(String.valueOf(seen.count()));
            soft.assertThat(req.body()).as(what + ": body of the refusal, unchanged")
                    .isEqualTo(head ? "" : RefusingHandler.refusalBody(c.body));
            soft.assertThat(req.retryAfter()).as(what + ": Retry-After of the refusal").isEqualTo(c.retryAfter);
            soft.assertThat(req.wwwAuthenticate()).as(what + ": WWW-Authenticate of the refusal").isEqualTo(c.expectedChallenge());
        }
        if (!retried && c.status == 401) {
            soft.assertThat(req.ms()).as(what + ": a 401 that is not retried reaches the caller at once (ms)")
                    .isLessThan(PASS_THROUGH_MAX_MS);
        }
        if (c.retryAfter != null && retried && seen.atMs().size() >= 2) {
            soft.assertThat(seen.atMs().get(1) - seen.atMs().get(0))
                    .as(what + ": ms between the refused request and the retry, with Retry-After: " + c.retryAfter)
                    .isGreaterThanOrEqualTo(RETRY_AFTER_MIN_MS);
            soft.assertThat(req.ms()).as(what + ": ms the caller waited, with Retry-After: " + c.retryAfter)
                    .isGreaterThanOrEqualTo(RETRY_AFTER_MIN_MS);
        }

        List<String> retryLines = run.agentLines(step).stream().filter(l -> l.contains("retry [")).toList();
        List<String> exhausted = run.exhaustedLines(step);
        if (!agent) {
            soft.assertThat(run.stepJmx(step).get("mbean")).as(what + ": no ConnGuard MBean without the agent").isEqualTo("none");
            return;
        }
        boolean apache5 = client.equals("apache5");
        boolean ranOut = retried && expectedStatus != 200;
        if (!retried) {
            soft.assertThat(retryLines).as(what + ": a request the agent does not retry logs no retry line").isEmpty();
        } else if (!ranOut) {
            soft.assertThat(exhausted).as(what + ": retried to success, nothing exhausted").isEmpty();
        } else {
            // Apache HttpClient 5 repeats the agent's last refusal once more by itself: one or two runs of attempts.
            soft.assertThat(exhausted).as(what + ": one 'retry [exhausted]' line per request whose retries ran out"
                    + (apache5 ? " (Apache 5: one per run of attempts, its own retry may start a second)" : ""))
                    .hasSizeBetween(1, apache5 ? 2 : 1);
            String hostPort = "127.0.0.1:" + SERVER.port();
            for (String line : exhausted) {
                soft.assertThat(line).as(what + ": the exhausted line names method, host:port, client, status and attempts")
                        .contains(c.method + " " + hostPort + " (" + RetryRun.CLIENTS.get(client) + ")")
                        .contains("answered " + c.status + " after " + MAX_ATTEMPTS + " attempts")
                        .contains("CONNGUARD_RETRY_MAX_ATTEMPTS=" + MAX_ATTEMPTS);
            }
        }
        Optional<Long> retries = run.jmxDelta(step, "Retries");
        Optional<Long> exhaustedCount = run.jmxDelta(step, "RetriesExhausted");
        soft.assertThat(retries).as(what + ": JMX Retries during the step " + run.stepJmx(step)).isPresent();
        soft.assertThat(exhaustedCount).as(what + ": JMX RetriesExhausted during the step " + run.stepJmx(step)).isPresent();
        if (retries.isEmpty() || exhaustedCount.isEmpty()) {
            return;
        }
        if (!retried) {
            soft.assertThat(retries.get()).as(what + ": JMX Retries during the step").isZero();
            soft.assertThat(exhaustedCount.get()).as(what + ": JMX RetriesExhausted during the step").isZero();
        } else if (apache5) {
            soft.assertThat(retries.get()).as(what + ": JMX Retries during the step (Apache 5)").isBetween(1L, (long) expectedCount - 1);
            soft.assertThat(exhaustedCount.get()).as(what + ": JMX RetriesExhausted during the step (Apache 5)")
                    .isEqualTo((long) exhausted.size());
        } else {
            soft.assertThat(retries.get()).as(what + ": JMX Retries during the step").isEqualTo(expectedCount - 1L);
            soft.assertThat(exhaustedCount.get()).as(what + ": JMX RetriesExhausted during the step").isEqualTo(ranOut ? 1L : 0L);
        }
    }

    static void checkNoSecretsLogged(SoftAssertions soft, RetryRun run) {
        String stderr = run.stderr();
        soft.assertThat(stderr).as("the log never shows the Authorization header's value").doesNotContain(SECRET);
        soft.assertThat(stderr).as("the log never shows a query string").doesNotContain(QUERY_SECRET).doesNotContain("fail=");
        soft.assertThat(run.output().lines()).as("the app ran to the end").anyMatch(l -> l.startsWith("RESULT "));
        assertThat(run.output().exitCode()).as(run.describe()).isZero();
    }
}

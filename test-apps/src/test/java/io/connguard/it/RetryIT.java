package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.connguard.testapps.client.RetryApp;
import io.connguard.testapps.server.RefusingHandler;

/**
 * Response-level retries across the clients (HttpURLConnection, java.net.http.HttpClient sync and
 * async, Apache HttpClient 4, wagon-http's relocated HttpClient 4, Apache HttpClient 5, OkHttp),
 * against the Harbor-like server's {@code /refuse/<id>} endpoint, which refuses the first N
 * requests of an id and counts what it saw; the cases and their checks, which
 * {@link ClientContract} runs for each client on its own.
 *
 * <p>Per client ({@link ClientContract#refusalsAreRetriedByTheRules}), one application JVM (JDK 17;
 * the JDK's own clients also on JDK 25) runs a warm-up GET and then every {@link Case} in turn (one request each, one shared
 * client in its default configuration) with {@code CONNGUARD_RETRY_MAX_ATTEMPTS=3}, a short
 * back-off (20 ms, at most 100 ms) and {@code CONNGUARD_REGISTRY_HOSTS=127.0.0.1}. For every case
 * the test knows what the caller must see and how many requests the server must have seen:
 * <ul>
 *   <li>retried by the agent (GET and HEAD refused with 429 or 503; a registry host's 401 that has
 *       no usable challenge, to a request with or without credentials, or that answers credentials
 *       with a challenge and a database-error body — for HttpURLConnection only the missing or blank
 *       challenge counts, as the README says, since the JDK keeps the body for
 *       {@code getErrorStream()}): up to 3 attempts, so "refused twice" ends in a 200 after 3
 *       requests, "always refused" in the last 503 or 401 after exactly 3, unchanged, with one
 *       {@code retry [exhausted]} line and the JMX counters; a {@code Retry-After: 1} is waited out;</li>
 *   <li>not retried (POST, PUT, a real challenge with an ordinary body, a challenge to an anonymous
 *       request whatever its body): the refusal is passed on at once, the server saw what it sees
 *       without the agent.</li>
 * </ul>
 * A client's own retries are part of the model: Apache HttpClient 5's default
 * {@code DefaultHttpRequestRetryStrategy} repeats a 429 or 503 once by itself, after its
 * {@code Retry-After} or 1 s, for any method whose body is repeatable (POST and PUT with a byte
 * array included). With the agent, once the agent's 3 attempts have run out and it passes the
 * refusal on, Apache 5's own retry makes its one repeat and the agent does not start another round
 * inside it: "always refused" is 3 + 1 = 4 server requests, one {@code retry [exhausted]} line and 2
 * retries by the agent. POST and PUT get Apache 5's one repeat with or without the agent, never the agent's.
 * No other client here repeats a status.
 *
 * <p>The same plan without the agent (all clients in one JVM) shows that only the agent retries;
 * a JVM whose {@code CONNGUARD_REGISTRY_HOSTS} does not match 127.0.0.1:PORT but whose
 * {@code CONNGUARD_RETRY_HOSTS} does (by name, or {@code *}) shows that a non-registry host's 401
 * is passed through, while its 503s are still retried. No log line ever shows the credentials or
 * the query string.
 *
 * <p>Which hosts are retried at all: by default only those with a cap or a name. A JVM with neither
 * registry nor retry hosts and {@code CONNGUARD_HOST_LIMITS} capping only a second server
 * ({@link #CAPPED}) sees the first server's refusals exactly as without the agent and the capped
 * one's retried.
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

    /** A second refusing server, on its own port: the capped host of {@link #byDefaultOnlyACappedHostIsRetried}. */
    @RegisterExtension
    static final HarborServer CAPPED = new HarborServer(0, 0, false, "capped");

    /** In the step names of requests to {@link #CAPPED}: {@code <client>-capped-<case>}. */
    static final String CAPPED_TAG = "-capped";

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
        ANONYMOUS_401_CHALLENGE_DB_BODY("GET", false, 1, 401, null, "bearer", "db"),
        ANONYMOUS_401_DB_NO_CHALLENGE("GET", false, 1, 401, null, "none", "db"),
        ANONYMOUS_401_NO_CHALLENGE("GET", false, 2, 401, null, "none", "plain"),
        ANONYMOUS_401_BLANK_CHALLENGE("GET", false, 1, 401, null, "empty", "plain"),
        ANONYMOUS_401_ALWAYS("GET", false, 1_000_000, 401, null, "none", "plain");

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

        /**
         * Whether the agent's rules retry this request of this client, on a registry host or not.
         * A registry's 401 without a usable challenge is a refusal with or without credentials; one
         * with a challenge only when it answers credentials with a database-error body. For
         * HttpURLConnection that second test never applies: the JDK keeps the body for
         * {@code getErrorStream()} and the agent cannot peek at it (README, "A registry 401").
         */
        boolean agentRetries(String client, boolean registryHost) {
            if (!method.equals("GET") && !method.equals("HEAD")) {
                return false;
            }
            if (status == 429 || status == 503) {
                return true;
            }
            boolean bodyLooked = !client.equals("url");
            boolean noChallenge = "none".equals(challenge) || "empty".equals(challenge);
            return status == 401 && registryHost && (noChallenge || auth && bodyLooked && "db".equals(body));
        }

        /** Requests per attempt that the client itself makes: Apache HttpClient 5 repeats a 429/503 once. */
        int nativeAttempts(String client) {
            return client.equals("apache5") && (status == 429 || status == 503) ? 2 : 1;
        }

        /**
         * How many requests the server sees for this case at most: the agent's attempts, and after
         * them the client's own repeat (the agent does not retry that repeat again).
         */
        int capacity(String client, boolean agent, boolean registryHost) {
            return agent && agentRetries(client, registryHost) ? MAX_ATTEMPTS + nativeAttempts(client) - 1 : nativeAttempts(client);
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

    /**
     * {@code CONNGUARD_REGISTRY_HOSTS} names other hosts (and 127.0.0.1 on another port), and
     * {@code CONNGUARD_RETRY_HOSTS} the server's host (by name, or every host with {@code *}, the
     * default before issue 14): the Harbor-style 401s are passed through untouched, the 503s still
     * retried. All clients, one JVM.
     */
    @ParameterizedTest(name = "CONNGUARD_RETRY_HOSTS={0}")
    @ValueSource(strings = {"127.0.0.1", "*"})
    void aNonRegistryHostsUnauthorizedIsPassedThrough(String retryHosts) {
        runWithAgent(jvms, SERVER, 17, List.copyOf(RetryRun.CLIENTS.keySet()), List.of(Case.TWICE_503, Case.HEAD_503,
                Case.ALWAYS_503, Case.REGISTRY_401_DB_NO_CHALLENGE, Case.REGISTRY_401_BLANK_CHALLENGE,
                Case.REGISTRY_401_CHALLENGE_DB_BODY, Case.ANONYMOUS_401_NO_CHALLENGE),
                "registry.example.com,*.corp.example,127.0.0.1:1", retryHosts, false);
    }

    /**
     * Issue 14 item 8: attaching the agent changes nothing for a host nobody capped or named. One
     * JVM, all clients, neither {@code CONNGUARD_REGISTRY_HOSTS} nor {@code CONNGUARD_RETRY_HOSTS},
     * and {@code CONNGUARD_HOST_LIMITS} capping {@link #CAPPED}'s port only. {@link #SERVER}'s
     * refusals reach the caller as without the agent: its 503 after exactly one request (two for
     * Apache HttpClient 5, which repeats a 503 once by itself, with or without the agent), its 401
     * at once, no retry logged or counted. {@link #CAPPED}'s 503s are retried by the agent as before.
     */
    @Test
    void byDefaultOnlyACappedHostIsRetried() {
        String prefix = "d" + Long.toString(System.nanoTime(), 36);
        List<String> clients = List.copyOf(RetryRun.CLIENTS.keySet());
        List<Case> uncapped = List.of(Case.TWICE_503, Case.HEAD_503, Case.ALWAYS_503, Case.REGISTRY_401_DB_NO_CHALLENGE);
        List<Case> capped = List.of(Case.TWICE_503, Case.ALWAYS_503);
        RetryRun.Plan plan = new RetryRun.Plan();
        for (String client : clients) {
            plan.step(warmup(SERVER, client, prefix));
            uncapped.forEach(c -> plan.step(step(SERVER, client, "", c, prefix)));
            capped.forEach(c -> plan.step(step(CAPPED, client, CAPPED_TAG, c, prefix)));
        }
        RetryRun run = new RetryRun(jvms.run(agentJvm(17, "")
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1:" + CAPPED.port() + "=16")
                .args("--plan", plan.text(), "--jmx")));

        SoftAssertions soft = new SoftAssertions();
        for (String client : clients) {
            for (Case c : uncapped) {
                check(soft, run, SERVER, client, "", c, prefix, true, false, false);
                if (c.status == 503) {
                    soft.assertThat(SERVER.refuseStats(prefix + "-" + client + "-" + c.step()).count())
                            .as(client + "-" + c.step() + ": requests the server saw, as without the agent")
                            .isEqualTo(c.nativeAttempts(client));
                }
            }
            for (Case c : capped) {
                check(soft, run, CAPPED, client, CAPPED_TAG, c, prefix, true, true, false);
            }
        }
        checkNoSecretsLogged(soft, run);
        soft.assertAll();
    }

    /**
     * {@code CONNGUARD_RETRY_METHODS=GET,HEAD,PUT} and {@code CONNGUARD_RETRY_STATUSES=502,503}: a PUT
     * with a replayable body (OkHttp byte array, the JDK's byte-array publisher, Apache's
     * ByteArrayEntity) is retried, HttpURLConnection's PUT is not (it has a request body, which that
     * client cannot send again); a 502 is retried, a 429 no longer is; a POST still is not.
     */
    @Test
    void theSettingsWidenAndNarrowWhatIsRetried() {
        String prefix = "s" + Long.toString(System.nanoTime(), 36);
        List<String> clients = List.of("url", "jdk", "apache4", "okhttp");
        // step suffix -> method, query, status expected for a client that can replay (and for url), server count
        record Rule(String name, String method, String query, int status, int count, int urlStatus, int urlCount) {
        }
        List<Rule> rules = List.of(
                new Rule("put-503", "PUT", "fail=1&status=503", 200, 2, 503, 1),
                new Rule("get-502", "GET", "fail=1&status=502", 200, 2, 200, 2),
                new Rule("get-429", "GET", "fail=1&status=429", 429, 1, 429, 1),
                new Rule("post-503", "POST", "fail=1&status=503", 503, 1, 503, 1));
        RetryRun.Plan plan = new RetryRun.Plan();
        for (String client : clients) {
            for (Rule rule : rules) {
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("name", client + "-" + rule.name());
                fields.put("client", client);
                fields.put("method", rule.method());
                fields.put("url", SERVER.refuseUrl(prefix + "-" + client + "-" + rule.name(), rule.query()));
                plan.step(fields);
            }
        }
        RetryRun run = new RetryRun(jvms.run(agentJvm(17, "")
                .env("CONNGUARD_RETRY_HOSTS", "127.0.0.1")
                .env("CONNGUARD_RETRY_METHODS", "GET,HEAD,PUT")
                .env("CONNGUARD_RETRY_STATUSES", "502,503")
                .args("--plan", plan.text(), "--jmx")));

        SoftAssertions soft = new SoftAssertions();
        for (String client : clients) {
            for (Rule rule : rules) {
                String step = client + "-" + rule.name();
                RetryRun.Req req = run.request(step);
                HarborServer.RefuseStats seen = SERVER.refuseStats(prefix + "-" + step);
                boolean url = client.equals("url");
                soft.assertThat(req.status()).as(step + ": status " + req).isEqualTo(url ? rule.urlStatus() : rule.status());
                soft.assertThat(seen.count()).as(step + ": requests the server saw " + seen.methods()).isEqualTo(url ? rule.urlCount() : rule.count());
            }
        }
        soft.assertAll();
    }

    /** All clients, one JVM, no agent: every refusal reaches the caller after the client's own attempts only. */
    @Test
    void withoutTheAgentOnlyTheClientsOwnRetriesHappen() {
        String prefix = "n" + Long.toString(System.nanoTime(), 36);
        RetryRun.Plan plan = plan(SERVER, prefix, List.copyOf(RetryRun.CLIENTS.keySet()), List.of(Case.values()));
        RetryRun run = new RetryRun(jvms.run(jvms.java(17).main(RetryApp.class).args("--plan", plan.text(), "--jmx")));

        SoftAssertions soft = new SoftAssertions();
        for (String client : RetryRun.CLIENTS.keySet()) {
            for (Case c : Case.values()) {
                check(soft, run, SERVER, client, c, prefix, false, true);
            }
        }
        soft.assertThat(run.stderrLines("connguard")).as("no agent, no connguard lines").isEmpty();
        soft.assertAll();
    }

    /** These clients in one JVM with the agent: every case checked for each. */
    static void runWithAgent(Jvms jvms, HarborServer server, int jdk, List<String> clients, List<Case> cases,
                             String registryHosts, boolean registryHost) {
        runWithAgent(jvms, server, jdk, clients, cases, registryHosts, "", registryHost);
    }

    /** As above, with {@code CONNGUARD_RETRY_HOSTS=retryHosts} too; the server's host is retried either way. */
    static void runWithAgent(Jvms jvms, HarborServer server, int jdk, List<String> clients, List<Case> cases,
                             String registryHosts, String retryHosts, boolean registryHost) {
        String prefix = "r" + Long.toString(System.nanoTime(), 36);
        RetryRun.Plan plan = plan(server, prefix, clients, cases);
        RetryRun run = new RetryRun(jvms.run(agentJvm(jvms, jdk, registryHosts).env("CONNGUARD_RETRY_HOSTS", retryHosts)
                .args("--plan", plan.text(), "--jmx")));

        SoftAssertions soft = new SoftAssertions();
        for (String client : clients) {
            for (Case c : cases) {
                check(soft, run, server, client, c, prefix, true, registryHost);
            }
        }
        checkNoSecretsLogged(soft, run);
        soft.assertAll();
    }

    /**
     * Per client: a warm-up GET (the first request of a client in a JVM with the agent waits for
     * the agent's class rewriting, which would blur the timing checks), then one step per case,
     * named {@code <client>-<case>}, with the server id {@code <prefix>-<client>-<case>}.
     */
    static RetryRun.Plan plan(HarborServer server, String prefix, List<String> clients, List<Case> cases) {
        RetryRun.Plan plan = new RetryRun.Plan();
        for (String client : clients) {
            plan.step(warmup(server, client, prefix));
            for (Case c : cases) {
                plan.step(step(server, client, "", c, prefix));
            }
        }
        return plan;
    }

    private static Map<String, Object> warmup(HarborServer server, String client, String prefix) {
        Map<String, Object> warmup = new LinkedHashMap<>();
        warmup.put("name", client + "-warmup");
        warmup.put("client", client);
        warmup.put("url", server.refuseUrl(prefix + "-" + client + "-warmup", "fail=0"));
        return warmup;
    }

    private JvmProcess.Builder agentJvm(int jdk, String registryHosts) {
        return agentJvm(jvms, jdk, registryHosts);
    }

    /** The retry app with the agent: 3 attempts, a short back-off, these registry hosts. */
    static JvmProcess.Builder agentJvm(Jvms jvms, int jdk, String registryHosts) {
        return jvms.java(jdk).agent()
                .env("CONNGUARD_RETRY_MAX_ATTEMPTS", String.valueOf(MAX_ATTEMPTS))
                .env("CONNGUARD_RETRY_BACKOFF", "20ms")
                .env("CONNGUARD_RETRY_MAX_BACKOFF", "100ms")
                .env("CONNGUARD_REGISTRY_HOSTS", registryHosts)
                .main(RetryApp.class);
    }

    /** The step {@code <client><tag>-<case>}, with the server id {@code <prefix>-<step>}. */
    private static Map<String, Object> step(HarborServer server, String client, String tag, Case c, String prefix) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("name", client + tag + "-" + c.step());
        fields.put("client", client);
        fields.put("method", c.method);
        fields.put("url", server.refuseUrl(prefix + "-" + client + tag + "-" + c.step(), c.query()));
        if (c.auth) {
            fields.put("auth", AUTH);
        }
        fields.put("timeoutMs", 20_000);
        return fields;
    }

    /** Everything the caller, the server, the log and JMX must show for one case. */
    static void check(SoftAssertions soft, RetryRun run, HarborServer server, String client, Case c, String prefix,
                      boolean agent, boolean registryHost) {
        check(soft, run, server, client, "", c, prefix, agent, true, registryHost);
    }

    /**
     * As above, for the step {@code <client><tag>-<case>}; {@code hostRetried}: whether the agent
     * retries the server's host at all (capped or named), else it must act as if it were not there.
     */
    static void check(SoftAssertions soft, RetryRun run, HarborServer server, String client, String tag, Case c,
                      String prefix, boolean agent, boolean hostRetried, boolean registryHost) {
        String step = client + tag + "-" + c.step();
        String id = prefix + "-" + step;
        String what = step + " (" + (agent ? "agent" : "no agent") + (agent && !hostRetried ? ", host not retried" : "")
                + (registryHost ? "" : ", not a registry host") + ")";
        RetryRun.Req req = run.request(step);
        HarborServer.RefuseStats seen = server.refuseStats(id);
        // Where the agent retries nothing, the caller and the server see what they see without it.
        boolean retrying = agent && hostRetried;
        int expectedStatus = c.expectedStatus(client, retrying, registryHost);
        int expectedCount = c.expectedCount(client, retrying, registryHost);
        boolean retried = retrying && c.agentRetries(client, registryHost);
        boolean head = c.method.equals("HEAD");

        if (c.expectedError(client, retrying, registryHost)) {
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
        boolean ranOut = retried && c.fail >= MAX_ATTEMPTS;
        if (!retried) {
            soft.assertThat(retryLines).as(what + ": a request the agent does not retry logs no retry line").isEmpty();
        } else if (!ranOut) {
            soft.assertThat(exhausted).as(what + ": retried to success, nothing exhausted").isEmpty();
        } else {
            soft.assertThat(exhausted).as(what + ": one 'retry [exhausted]' line").hasSize(1);
            String hostPort = "127.0.0.1:" + server.port();
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
        long expectedRetries = retried ? Math.min(expectedCount, MAX_ATTEMPTS) - 1 : 0;
        long expectedExhausted = ranOut ? 1 : 0;
        retries.ifPresent(n -> soft.assertThat(n).as(what + ": JMX Retries during the step").isEqualTo(expectedRetries));
        exhaustedCount.ifPresent(n -> soft.assertThat(n).as(what + ": JMX RetriesExhausted during the step").isEqualTo(expectedExhausted));
    }

    static void checkNoSecretsLogged(SoftAssertions soft, RetryRun run) {
        String stderr = run.stderr();
        soft.assertThat(stderr).as("the log never shows the Authorization header's value").doesNotContain(SECRET);
        soft.assertThat(stderr).as("the log never shows a query string").doesNotContain(QUERY_SECRET).doesNotContain("fail=");
        soft.assertThat(run.output().lines()).as("the app ran to the end").anyMatch(l -> l.startsWith("RESULT "));
        assertThat(run.output().exitCode()).as(run.describe()).isZero();
    }
}

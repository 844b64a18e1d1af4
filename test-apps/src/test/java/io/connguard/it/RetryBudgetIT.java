package io.connguard.it;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.connguard.testapps.client.RetryApp;

/**
 * The retry budget: {@value #THREADS} threads of one JVM (HttpURLConnection) each send one GET at
 * the same moment to an id the server always refuses with {@code 503} and {@code Retry-After: 1}.
 * With {@code CONNGUARD_RETRY_BUDGET=10} at most max(10, 10% of 40) = {@value #BUDGET_MIN} requests
 * may be in their retry phase at once; every other refusal is passed on at once.
 *
 * <p>The bound: each retry phase lasts at least (MAX_ATTEMPTS - 1) x 1 s = 3 s, because the
 * Retry-After is honoured; the 40 first requests all start together and are refused well within
 * that, so the slots taken by the first refusals are still held when the others are refused: about
 * {@value #BUDGET_MIN} requests get retried, 3 times each, and the server sees about 40 + 10 x 3 = 70
 * requests. The test allows twice the retried requests (a slow machine may spread the first requests
 * over more than 3 s): at most 40 + 2 x 10 x 3 = {@value #MAX_SERVER_REQUESTS}, against
 * 40 x 4 = 160 without a budget. Without the agent the server sees each request exactly once.
 */
class RetryBudgetIT {

    static final int THREADS = 40;
    static final int MAX_ATTEMPTS = 4;
    static final int BUDGET_MIN = 10;
    static final int MAX_RETRIED_REQUESTS = 2 * BUDGET_MIN;
    static final int MAX_SERVER_REQUESTS = THREADS + MAX_RETRIED_REQUESTS * (MAX_ATTEMPTS - 1);

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(0, 0);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @Test
    void retriesBeyondTheBudgetAreNotMade() {
        String id = "b" + Long.toString(System.nanoTime(), 36);
        RetryRun run = new RetryRun(jvms.run(jvms.java(17).agent()
                .env("CONNGUARD_RETRY_HOSTS", "127.0.0.1")
                .env("CONNGUARD_RETRY_BUDGET", "10")
                .env("CONNGUARD_RETRY_MAX_ATTEMPTS", String.valueOf(MAX_ATTEMPTS))
                .env("CONNGUARD_RETRY_BACKOFF", "500ms")
                .env("CONNGUARD_RETRY_MAX_BACKOFF", "1s")
                .main(RetryApp.class).args("--plan", plan(id), "--jmx")));
        HarborServer.RefuseStats seen = SERVER.refuseStats(id);

        SoftAssertions soft = new SoftAssertions();
        List<RetryRun.Req> requests = run.requests("storm");
        soft.assertThat(requests).as("requests made").hasSize(THREADS);
        soft.assertThat(requests).as("every caller got the 503 (the server always refuses)").allMatch(r -> r.status() == 503);
        soft.assertThat(seen.count()).as("requests the server saw: the 40 first ones plus at most " + MAX_RETRIED_REQUESTS
                        + " requests' retries (" + MAX_SERVER_REQUESTS + "), against " + THREADS * MAX_ATTEMPTS + " without a budget")
                .isBetween(THREADS + 1, MAX_SERVER_REQUESTS);
        long passedOnAtOnce = requests.stream().filter(r -> r.ms() < 1_000).count();
        soft.assertThat(passedOnAtOnce).as("callers whose refusal was passed on at once (under 1 s; a retried one takes 3 s)")
                .isGreaterThanOrEqualTo(THREADS - MAX_RETRIED_REQUESTS);

        Optional<Long> exceeded = run.jmxDelta("storm", "RetryBudgetExceeded");
        Optional<Long> retries = run.jmxDelta("storm", "Retries");
        soft.assertThat(exceeded).as("JMX RetryBudgetExceeded " + run.stepJmx("storm")).isPresent();
        exceeded.ifPresent(n -> soft.assertThat(n).as("JMX RetryBudgetExceeded").isGreaterThanOrEqualTo(THREADS - MAX_RETRIED_REQUESTS));
        retries.ifPresent(n -> soft.assertThat(n).as("JMX Retries: the server's count minus the 40 first requests")
                .isEqualTo(seen.count() - (long) THREADS));

        List<String> budgetLines = run.stderrLines("retry [budget]");
        soft.assertThat(budgetLines).as("one 'retry [budget]' line (at most one per minute per host)").hasSize(1);
        budgetLines.forEach(l -> soft.assertThat(l).as("the budget line names the host").contains("127.0.0.1:" + SERVER.port()));
        soft.assertAll();
    }

    @Test
    void withoutTheAgentEveryRequestIsSeenOnce() {
        String id = "c" + Long.toString(System.nanoTime(), 36);
        RetryRun run = new RetryRun(jvms.run(jvms.java(17).main(RetryApp.class).args("--plan", plan(id))));
        HarborServer.RefuseStats seen = SERVER.refuseStats(id);

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(run.requests("storm")).as("requests made").hasSize(THREADS).allMatch(r -> r.status() == 503);
        soft.assertThat(seen.count()).as("requests the server saw").isEqualTo(THREADS);
        soft.assertThat(run.stderrLines("connguard")).as("no agent, no connguard lines").isEmpty();
        soft.assertAll();
    }

    /** A warm-up GET (the agent's class rewriting must not hold up the storm's first requests), then the storm. */
    private static String plan(String id) {
        Map<String, Object> warmup = new LinkedHashMap<>();
        warmup.put("name", "warmup");
        warmup.put("client", "url");
        warmup.put("url", SERVER.refuseUrl(id + "-warmup", "fail=0"));
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("name", "storm");
        fields.put("client", "url");
        fields.put("url", SERVER.refuseUrl(id, "fail=1000000&status=503&retryAfter=1"));
        fields.put("threads", THREADS);
        fields.put("requests", 1);
        fields.put("timeoutMs", 30_000);
        return new RetryRun.Plan().step(warmup).step(fields).text();
    }
}

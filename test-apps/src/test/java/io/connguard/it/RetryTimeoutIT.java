package io.connguard.it;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.connguard.testapps.client.RetryApp;
import io.connguard.testapps.server.RefusingHandler;

/**
 * The time rules of retries, with the agent:
 * <ul>
 *   <li>never past the caller's own request timeout: with a 1 s request timeout
 *       ({@code HttpRequest.timeout} for java.net.http sync and async, OkHttp's {@code callTimeout})
 *       a 503 with {@code Retry-After: 5} is handed to the caller at once, after one request, and
 *       logged as exhausted; the same client with a 5 s timeout and {@code Retry-After: 1} is
 *       retried to a 200 (so the timeout, not the Retry-After, is what stopped it);</li>
 *   <li>a {@code Retry-After} longer than {@code CONNGUARD_RETRY_AFTER_MAX} (30 s by default: here
 *       60) is not waited for: the refusal is passed on at once and logged as exhausted;</li>
 *   <li>a {@code Retry-After} given as an HTTP date (two seconds ahead when the server wrote it,
 *       whole seconds) is waited out: at least one second between the two requests.</li>
 * </ul>
 * Each client first makes a warm-up GET, so that the timings do not include the agent's class
 * rewriting. Without the agent the controls end in 503 and nothing is logged, so these tests fail.
 */
class RetryTimeoutIT {

    /** A refusal passed on "at once": far below the 5 s Retry-After, with room for a cold client. */
    static final long AT_ONCE_MS = 2_500;

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(0, 0);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @Test
    void theCallersRequestTimeoutEndsRetries() {
        String prefix = "t" + Long.toString(System.nanoTime(), 36);
        List<String> clients = List.of("jdk", "jdk-async", "okhttp");
        RetryRun.Plan plan = new RetryRun.Plan();
        for (String client : clients) {
            plan.step(step(client + "-warmup", client, SERVER.refuseUrl(prefix + "-" + client + "-warmup", "fail=0"), 5_000));
            plan.step(step(client + "-timeout", client, SERVER.refuseUrl(prefix + "-" + client + "-timeout",
                    "fail=1000&status=503&retryAfter=5"), 1_000));
            plan.step(step(client + "-control", client, SERVER.refuseUrl(prefix + "-" + client + "-control",
                    "fail=1&status=503&retryAfter=1"), 5_000));
        }
        RetryRun run = new RetryRun(jvms.run(agentJvm().args("--plan", plan.text(), "--jmx")));

        SoftAssertions soft = new SoftAssertions();
        for (String client : clients) {
            String step = client + "-timeout";
            String what = step + " (request timeout 1 s, Retry-After: 5)";
            RetryRun.Req req = run.request(step);
            HarborServer.RefuseStats seen = SERVER.refuseStats(prefix + "-" + step);
            soft.assertThat(req.error()).as(what + ": the request failed").isNull();
            soft.assertThat(req.status()).as(what + ": status").isEqualTo(503);
            soft.assertThat(req.body()).as(what + ": body, unchanged").isEqualTo(RefusingHandler.BUSY_BODY);
            soft.assertThat(req.retryAfter()).as(what + ": Retry-After, unchanged").isEqualTo("5");
            soft.assertThat(req.ms()).as(what + ": ms until the caller had the refusal").isLessThan(AT_ONCE_MS);
            soft.assertThat(seen.count()).as(what + ": requests the server saw").isEqualTo(1);
            checkExhausted(soft, run, step, what, client);

            String control = client + "-control";
            String controlWhat = control + " (request timeout 5 s, Retry-After: 1)";
            RetryRun.Req controlReq = run.request(control);
            HarborServer.RefuseStats controlSeen = SERVER.refuseStats(prefix + "-" + control);
            soft.assertThat(controlReq.status()).as(controlWhat + ": status " + controlReq).isEqualTo(200);
            soft.assertThat(controlSeen.count()).as(controlWhat + ": requests the server saw").isEqualTo(2);
            soft.assertThat(controlReq.ms()).as(controlWhat + ": ms (Retry-After waited out)").isGreaterThanOrEqualTo(RetryIT.RETRY_AFTER_MIN_MS);
        }
        soft.assertAll();
    }

    @Test
    void retryAfterOverTheMaximumIsNotWaitedForAndAnHttpDateIs() {
        String prefix = "d" + Long.toString(System.nanoTime(), 36);
        List<String> clients = List.of("url", "apache4");
        RetryRun.Plan plan = new RetryRun.Plan();
        for (String client : clients) {
            plan.step(step(client + "-warmup", client, SERVER.refuseUrl(prefix + "-" + client + "-warmup", "fail=0"), 5_000));
            plan.step(step(client + "-over-max", client, SERVER.refuseUrl(prefix + "-" + client + "-over-max",
                    "fail=1000&status=429&retryAfter=60"), 20_000));
            plan.step(step(client + "-date", client, SERVER.refuseUrl(prefix + "-" + client + "-date",
                    "fail=1&status=503&retryAfter=date:2"), 20_000));
        }
        RetryRun run = new RetryRun(jvms.run(agentJvm().args("--plan", plan.text(), "--jmx")));

        SoftAssertions soft = new SoftAssertions();
        for (String client : clients) {
            String step = client + "-over-max";
            String what = step + " (429, Retry-After: 60, over CONNGUARD_RETRY_AFTER_MAX=30s)";
            RetryRun.Req req = run.request(step);
            HarborServer.RefuseStats seen = SERVER.refuseStats(prefix + "-" + step);
            soft.assertThat(req.status()).as(what + ": status " + req).isEqualTo(429);
            soft.assertThat(req.retryAfter()).as(what + ": Retry-After, unchanged").isEqualTo("60");
            soft.assertThat(req.ms()).as(what + ": ms until the caller had the refusal").isLessThan(AT_ONCE_MS);
            soft.assertThat(seen.count()).as(what + ": requests the server saw").isEqualTo(1);
            checkExhausted(soft, run, step, what, client);

            String date = client + "-date";
            String dateWhat = date + " (503, Retry-After: an HTTP date 2 s ahead)";
            RetryRun.Req dateReq = run.request(date);
            HarborServer.RefuseStats dateSeen = SERVER.refuseStats(prefix + "-" + date);
            soft.assertThat(dateReq.status()).as(dateWhat + ": status " + dateReq).isEqualTo(200);
            soft.assertThat(dateSeen.count()).as(dateWhat + ": requests the server saw").isEqualTo(2);
            if (dateSeen.atMs().size() == 2) {
                // The date has whole seconds: written at t+2s truncated, it lies 1 to 2 s after the refusal.
                soft.assertThat(dateSeen.atMs().get(1) - dateSeen.atMs().get(0)).as(dateWhat + ": ms between the requests")
                        .isBetween(900L, 4_000L);
            }
        }
        soft.assertAll();
    }

    private static void checkExhausted(SoftAssertions soft, RetryRun run, String step, String what, String client) {
        List<String> lines = run.exhaustedLines(step);
        soft.assertThat(lines).as(what + ": one 'retry [exhausted]' line").hasSize(1);
        lines.forEach(line -> soft.assertThat(line).as(what + ": the exhausted line")
                .contains("GET 127.0.0.1:" + SERVER.port() + " (" + RetryRun.CLIENTS.get(client) + ")")
                .containsPattern("answered \\d{3} after 1 attempts?"));
        Optional<Long> exhausted = run.jmxDelta(step, "RetriesExhausted");
        soft.assertThat(exhausted).as(what + ": JMX RetriesExhausted " + run.stepJmx(step)).isPresent();
        exhausted.ifPresent(n -> soft.assertThat(n).as(what + ": JMX RetriesExhausted").isEqualTo(1L));
        Optional<Long> retries = run.jmxDelta(step, "Retries");
        retries.ifPresent(n -> soft.assertThat(n).as(what + ": JMX Retries").isZero());
    }

    private JvmProcess.Builder agentJvm() {
        return jvms.java(17).agent()
                .env("CONNGUARD_RETRY_HOSTS", "127.0.0.1")
                .env("CONNGUARD_RETRY_BACKOFF", "20ms")
                .env("CONNGUARD_RETRY_MAX_BACKOFF", "100ms")
                .main(RetryApp.class);
    }

    private static Map<String, Object> step(String name, String client, String url, int timeoutMs) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("name", name);
        fields.put("client", client);
        fields.put("url", url);
        fields.put("timeoutMs", timeoutMs);
        return fields;
    }
}

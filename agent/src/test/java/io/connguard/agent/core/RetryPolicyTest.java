package io.connguard.agent.core;

import io.connguard.agent.text.Sentences;
import io.connguard.agent.core.fleet.FleetBackend;
import io.connguard.agent.core.fleet.FleetCoordinator;
import io.connguard.agent.core.fleet.FleetSlotStore;
import org.junit.jupiter.api.Test;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** The retry rules of the pure core, without an agent or a client library. */
class RetryPolicyTest {

    private final List<String> events = new CopyOnWriteArrayList<>();
    private final RetryPolicy.Listener listener = new RetryPolicy.Listener() {
        @Override
        public void exhausted(RetryCall call, RetryCall.GiveUp giveUp) {
            events.add("exhausted " + call.describe() + " " + Sentences.retryOutcome(giveUp) + " after " + call.attempts()
                    + ": " + Sentences.retryReason(giveUp));
        }

        @Override
        public void budgetExceeded(RetryCall call, int retrying, int inFlight) {
            events.add("budget " + retrying + "/" + inFlight);
        }
    };
    private final Governor governor = new Governor((h, p) -> 0, new LocalSlotStore(), 200, 10, new Governor.Listener() { });

    private RetryPolicy policy(int attempts, long backoff, long maxBackoff, long retryAfterMax, int budget) {
        return policy(attempts, backoff, maxBackoff, retryAfterMax, budget, (host, port) -> false);
    }

    /** {@code named}: the hosts retried without a cap, as {@code CONNGUARD_RETRY_HOSTS} names them. */
    private RetryPolicy policy(int attempts, long backoff, long maxBackoff, long retryAfterMax, int budget,
                               RetryPolicy.HostMatcher named) {
        return new RetryPolicy(attempts, s -> s == 429 || s == 503, Set.of("GET", "HEAD"), backoff, maxBackoff,
                retryAfterMax, budget, (host, port) -> host.equals("registry.test"), named, listener);
    }

    private RetryCall call(RetryPolicy p, String host, String method) {
        return p.start(governor.host(host, 443), "Test", method, true, 0, true);
    }

    @Test
    void retriesUpToMaxAttemptsThenPassesTheRefusalOnOnce() {
        RetryPolicy p = policy(3, 10, 100, 30_000, 20);
        RetryCall c = call(p, "a.test", "GET");
        assertThat(c.refused(503, null)).isBetween(0L, 10L);
        assertThat(c.refused(503, null)).isBetween(0L, 20L);
        assertThat(c.refused(503, null)).isEqualTo(-1);
        c.end();
        HostState h = governor.host("a.test", 443);
        assertThat(h.retries()).isEqualTo(2);
        assertThat(h.retriesExhausted()).isEqualTo(1);
        assertThat(h.requestsInFlight()).isZero();
        assertThat(h.retryingNow()).isZero();
        assertThat(events).containsExactly("exhausted GET a.test:443 (Test) answered 503 after 3: no attempts left"
                + " (CONNGUARD_RETRY_MAX_ATTEMPTS=3)");
    }

    @Test
    void oneAttemptMeansRetriesAreOff() {
        assertThat(policy(1, 10, 100, 1000, 20).enabled()).isFalse();
        assertThat(policy(2, 10, 100, 1000, 20).enabled()).isTrue();
    }

    @Test
    void backOffIsFullJitterUnderADoublingCapBoundedByTheMaximum() {
        RetryPolicy p = policy(20, 100, 1_000, 30_000, 20);
        for (int i = 0; i < 500; i++) {
            assertThat(p.backoffMillis(1)).isBetween(0L, 100L);
            assertThat(p.backoffMillis(3)).isBetween(0L, 400L);
            assertThat(p.backoffMillis(10)).isBetween(0L, 1_000L);
        }
        long max = 0;
        for (int i = 0; i < 2_000; i++) {
            max = Math.max(max, p.backoffMillis(10));
        }
        assertThat(max).as("the jitter reaches up to the cap").isGreaterThan(900L);
    }

    @Test
    void retryAfterInSecondsOrAsADateIsHonouredExactly() {
        long now = System.currentTimeMillis();
        assertThat(RetryPolicy.retryAfterMillis("2", now)).isEqualTo(2_000);
        assertThat(RetryPolicy.retryAfterMillis(" 0 ", now)).isZero();
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now().plusSeconds(10));
        assertThat(RetryPolicy.retryAfterMillis(date, System.currentTimeMillis())).isBetween(8_000L, 10_000L);
        String past = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now().minusSeconds(10));
        assertThat(RetryPolicy.retryAfterMillis(past, now)).isZero();
        assertThat(RetryPolicy.retryAfterMillis("soon", now)).isEqualTo(-1);
        assertThat(RetryPolicy.retryAfterMillis("-3", now)).isEqualTo(-1);
        assertThat(RetryPolicy.retryAfterMillis(null, now)).isEqualTo(-1);

        RetryPolicy p = policy(5, 10, 100, 30_000, 20);
        RetryCall c = call(p, "b.test", "GET");
        assertThat(c.refused(429, "3")).isEqualTo(3_000);
        c.end();
    }

    @Test
    void aRetryAfterLongerThanTheMaximumIsPassedOnAtOnce() {
        RetryPolicy p = policy(5, 10, 100, 30_000, 20);
        RetryCall c = call(p, "c.test", "GET");
        assertThat(c.refused(503, "120")).isEqualTo(-1);
        c.end();
        assertThat(governor.host("c.test", 443).retries()).isZero();
        assertThat(events).singleElement().asString().contains("answered 503 after 1")
                .contains("retry after 120 s").contains("CONNGUARD_RETRY_AFTER_MAX");
    }

    @Test
    void theCallersRequestTimeoutBoundsTheWait() {
        RetryPolicy p = policy(5, 10, 100, 30_000, 20);
        RetryCall c = p.start(governor.host("d.test", 443), "Test", "GET", true, System.nanoTime() + 500_000_000L, true);
        assertThat(c.refused(503, "2")).isEqualTo(-1);
        c.end();
        assertThat(events).singleElement().asString().contains("request timeout");
    }

    @Test
    void connectRetriesStayWithinTheConnectTimeout() {
        RetryPolicy p = policy(10, 10, 10, 30_000, 20);
        RetryCall c = p.start(governor.host("e.test", 443), "Test", null, true, 0, false);
        c.connectTimeout(1);
        long deadline = System.nanoTime() + 50_000_000L;
        while (System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(c.connectRefused()).isEqualTo(-1);
        c.end();
        assertThat(events).singleElement().asString().contains("connect refused").contains("connect timeout");
        assertThat(governor.host("e.test", 443).requestsInFlight()).isZero();
    }

    @Test
    void onlyReplayableRequestsOfTheConfiguredMethodsRetryResponses() {
        RetryPolicy p = policy(5, 10, 100, 30_000, 20);
        assertThat(call(p, "f.test", "GET").responsesRetryable()).isTrue();
        assertThat(call(p, "f.test", "head").responsesRetryable()).isTrue();
        assertThat(call(p, "f.test", "POST").responsesRetryable()).isFalse();
        assertThat(p.start(governor.host("f.test", 443), "Test", "GET", false, 0, true).responsesRetryable()).isFalse();
    }

    @Test
    void theBudgetLetsAtLeastTheMinimumAndThenAPercentOfRequestsInFlightRetry() {
        RetryPolicy p = policy(5, 0, 0, 30_000, 20);
        List<RetryCall> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            calls.add(call(p, "g.test", "GET"));
        }
        int retried = 0;
        for (RetryCall c : calls) {
            if (c.refused(503, null) >= 0) {
                retried++;
            }
        }
        assertThat(retried).as("20% of 100 in flight").isEqualTo(20);
        HostState h = governor.host("g.test", 443);
        assertThat(h.retryBudgetExceeded()).isEqualTo(80);
        // A request already retrying keeps its place for its later attempts.
        assertThat(calls.get(0).refused(503, null)).isGreaterThanOrEqualTo(0);
        calls.forEach(RetryCall::end);
        assertThat(h.retryingNow()).isZero();
        assertThat(h.requestsInFlight()).isZero();

        List<RetryCall> few = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            few.add(call(p, "h.test", "GET"));
        }
        long allowed = few.stream().filter(c -> c.refused(503, null) >= 0).count();
        assertThat(allowed).as("the minimum applies with few in flight").isEqualTo(RetryPolicy.MIN_BUDGET);
        few.forEach(RetryCall::end);
    }

    @Test
    void aRegistry401IsARefusalWithoutChallengeOrWithCredentialsAndARefusalBody() {
        RetryPolicy p = policy(5, 10, 100, 30_000, 20);
        String harbor = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"failed to acquire database connection:"
                + " too many clients already\"}]}";
        String plain = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}";
        assertThat(p.registryRefusal("registry.test", 443, true, null, null)).isTrue();
        assertThat(p.registryRefusal("registry.test", 443, true, "  ", null)).isTrue();
        assertThat(p.registryRefusal("registry.test", 443, true, "Bearer realm=\"https://r/token\"", harbor)).isTrue();
        // No challenge asks for no credentials: an anonymous pull's 401 without one is a refusal too.
        assertThat(p.registryRefusal("registry.test", 443, false, null, harbor)).isTrue();
        assertThat(p.registryRefusal("registry.test", 443, false, null, plain)).isTrue();
        assertThat(p.registryRefusal("registry.test", 443, false, null, null)).isTrue();
        assertThat(p.registryRefusal("registry.test", 443, false, "", null)).isTrue();
        // The token dance: an anonymous request gets a challenge, whatever its body says; an
        // expired token gets one too.
        assertThat(p.registryRefusal("registry.test", 443, false, "Bearer realm=\"https://r/token\"", plain)).isFalse();
        assertThat(p.registryRefusal("registry.test", 443, false, "Bearer realm=\"https://r/token\"", harbor)).isFalse();
        assertThat(p.registryRefusal("registry.test", 443, false, "Basic realm=\"harbor\"", harbor)).isFalse();
        assertThat(p.registryRefusal("registry.test", 443, true, "Bearer realm=\"x\",error=\"invalid_token\"", plain))
                .isFalse();
        // Not a registry: never.
        assertThat(p.registryRefusal("other.test", 443, true, null, harbor)).isFalse();
        assertThat(p.registryRefusal("other.test", 443, false, null, harbor)).isFalse();
    }

    @Test
    void refusalBodiesSpeakOfDatabasesOrTransportNotOfCredentials() {
        assertThat(RetryPolicy.refusalBody("pq: sorry, too many clients already")).isTrue();
        assertThat(RetryPolicy.refusalBody("dial tcp 10.0.0.5:5432: connect: connection refused")).isTrue();
        assertThat(RetryPolicy.refusalBody("read: connection reset by peer")).isTrue();
        assertThat(RetryPolicy.refusalBody("i/o timeout")).isTrue();
        assertThat(RetryPolicy.refusalBody("authentication required")).isFalse();
        assertThat(RetryPolicy.refusalBody("invalid username or password")).isFalse();
        assertThat(RetryPolicy.refusalBody("token expired")).isFalse();
        assertThat(RetryPolicy.refusalBody(null)).isFalse();
        assertThat(RetryPolicy.usableChallenge("Basic realm=\"Registry\"")).isTrue();
        assertThat(RetryPolicy.usableChallenge("")).isFalse();
        assertThat(RetryPolicy.usableChallenge(null)).isFalse();
    }

    @Test
    void endIsIdempotentAndAnEndedCallNeverRetries() {
        RetryPolicy p = policy(5, 10, 100, 30_000, 20);
        RetryCall c = call(p, "i.test", "GET");
        assertThat(c.refused(503, null)).isGreaterThanOrEqualTo(0);
        c.end();
        c.end();
        HostState h = governor.host("i.test", 443);
        assertThat(h.requestsInFlight()).isZero();
        assertThat(h.retryingNow()).isZero();
        assertThat(c.refused(503, null)).isEqualTo(-1);
    }

    @Test
    void anInterruptedCallerIsNeverRetried() {
        RetryPolicy p = policy(5, 10, 100, 30_000, 20);
        RetryCall c = call(p, "j.test", "GET");
        Thread.currentThread().interrupt();
        try {
            assertThat(c.refused(503, null)).isEqualTo(-1);
        } finally {
            assertThat(Thread.interrupted()).as("the interrupt stays set for the caller").isTrue();
            c.end();
        }
        assertThat(governor.host("j.test", 443).retries()).isZero();
    }

    // ---- which hosts are retried at all

    @Test
    void aHostNobodyCappedOrNamedIsNotRetried() {
        Governor g = new Governor((h, p) -> h.equals("capped.test") ? 4 : 0, new LocalSlotStore(), 200, 10,
                new Governor.Listener() { });
        RetryPolicy p = policy(5, 10, 100, 30_000, 20,
                (host, port) -> host.equals("named.test") || host.equals("port.test") && port == 8080);
        assertThat(p.retriesHost(g.host("plain.test", 443))).as("neither capped nor named").isFalse();
        assertThat(p.retriesHost(g.host("capped.test", 443))).as("capped").isTrue();
        assertThat(p.retriesHost(g.host("registry.test", 443))).as("a registry").isTrue();
        assertThat(p.retriesHost(g.host("named.test", 443))).as("named").isTrue();
        assertThat(p.retriesHost(g.host("port.test", 8080))).as("named with its port").isTrue();
        assertThat(p.retriesHost(g.host("port.test", 443))).as("named with another port").isFalse();
    }

    @Test
    void aCapOnEveryHostOrEveryHostNamedRetriesEveryHost() {
        Governor everyCapped = new Governor((h, p) -> 8, new LocalSlotStore(), 200, 10, new Governor.Listener() { });
        assertThat(policy(5, 10, 100, 30_000, 20).retriesHost(everyCapped.host("plain.test", 443)))
                .as("CONNGUARD_MAX_PER_HOST caps every host").isTrue();
        assertThat(policy(5, 10, 100, 30_000, 20, (host, port) -> true).retriesHost(governor.host("plain.test", 443)))
                .as("every host named (*)").isTrue();
    }

    @Test
    void aCapSetOrRemovedAtRunTimeTurnsTheHostsRetriesOnAndOff() {
        RetryPolicy p = policy(5, 10, 100, 30_000, 20);
        HostState h = governor.host("runtime.test", 443);
        assertThat(p.retriesHost(h)).isFalse();
        governor.setLimit("runtime.test", 443, 3);
        assertThat(p.retriesHost(h)).as("capped over JMX").isTrue();
        governor.setLimit("runtime.test", 443, 0);
        assertThat(p.retriesHost(h)).as("cap removed").isFalse();
    }

    @Test
    void aFleetCapAloneMakesAHostRetried() {
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
            Governor g = new Governor((h, p) -> 0, new FleetSlotStore(new LocalSlotStore(),
                    (h, p) -> h.equals("harbor.test") ? 8 : 0, fleet), 200, 10, new Governor.Listener() { });
            RetryPolicy p = policy(5, 10, 100, 30_000, 20);
            HostState harbor = g.host("harbor.test", 443);
            assertThat(harbor.limit()).as("no local cap").isZero();
            assertThat(p.retriesHost(harbor)).as("a fleet-wide cap only").isTrue();
            assertThat(p.retriesHost(g.host("other.test", 443))).isFalse();
        } finally {
            fleet.stop();
        }
    }
}

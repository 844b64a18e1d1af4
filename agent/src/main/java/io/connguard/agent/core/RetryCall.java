package io.connguard.agent.core;

import java.util.concurrent.TimeUnit;

/**
 * One request (or one connect) under the {@link RetryPolicy}: counts its attempts, decides at
 * each refusal whether to try again and how long to wait first, and holds the host's retry
 * budget while it retries. Used by one thread at a time (the client's call path); {@link #end()}
 * once when the request is over, whatever its outcome.
 */
public final class RetryCall {
    private final RetryPolicy policy;
    private final HostState host;
    private final String client;
    private final String method;
    private final boolean replayable;
    private final boolean counted;
    private final long startNanos;
    private final long deadlineNanos;
    private long connectDeadlineNanos;
    private int attempts = 1;
    private boolean retrying;
    private boolean ended;
    /** Client glue's own state for this request (saved headers, the user's handler, …). */
    public Object attachment;

    RetryCall(RetryPolicy policy, HostState host, String client, String method, boolean replayable,
              long deadlineNanos, boolean counted) {
        this.policy = policy;
        this.host = host;
        this.client = client;
        this.method = method;
        this.replayable = replayable;
        this.counted = counted;
        this.startNanos = System.nanoTime();
        this.deadlineNanos = deadlineNanos;
    }

    public HostState host() {
        return host;
    }

    public int attempts() {
        return attempts;
    }

    /** Whether a refused response to this request may be retried at all (method and body). */
    public boolean responsesRetryable() {
        return replayable && policy.retriesMethod(method);
    }

    /** Bounds the waits before connecting again by {@code timeoutMillis} from the start of this call (0 = none). */
    public void connectTimeout(long timeoutMillis) {
        if (timeoutMillis > 0) {
            connectDeadlineNanos = startNanos + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        }
    }

    /** When the caller's own request timeout expires ({@link System#nanoTime()}), 0 for none. */
    public long requestDeadlineNanos() {
        return deadlineNanos;
    }

    /**
     * The server refused with {@code status} (already known to be a refusal).
     *
     * @param retryAfter the response's {@code Retry-After} value, or null
     * @return milliseconds to wait before the next attempt, or -1 to pass the response on
     */
    public long refused(int status, String retryAfter) {
        return decide(status, RetryPolicy.retryAfterMillis(retryAfter, System.currentTimeMillis()), deadlineNanos,
                GiveUp.Bound.REQUEST_TIMEOUT);
    }

    /**
     * The connect was refused (or reset) before any byte was sent.
     *
     * @return milliseconds to wait before connecting again, or -1 to let the failure through
     */
    public long connectRefused() {
        long deadline = connectDeadlineNanos == 0 ? deadlineNanos
                : deadlineNanos == 0 ? connectDeadlineNanos : Math.min(deadlineNanos, connectDeadlineNanos);
        return decide(0, -1, deadline,
                deadline == connectDeadlineNanos ? GiveUp.Bound.CONNECT_TIMEOUT : GiveUp.Bound.REQUEST_TIMEOUT);
    }

    /** @param status the refusing status, 0 for a refused connect */
    private long decide(int status, long retryAfterMillis, long deadline, GiveUp.Bound bound) {
        if (ended || Thread.currentThread().isInterrupted()) {
            return -1; // an interrupted caller wants out, not another attempt
        }
        if (attempts >= policy.maxAttempts()) {
            exhausted(new GiveUp(status, GiveUp.Reason.NO_ATTEMPTS_LEFT, policy.maxAttempts(), retryAfterMillis,
                    policy.retryAfterMaxMillis(), 0, bound));
            return -1;
        }
        long wait;
        if (retryAfterMillis >= 0) {
            if (retryAfterMillis > policy.retryAfterMaxMillis()) {
                exhausted(new GiveUp(status, GiveUp.Reason.RETRY_AFTER_TOO_LONG, policy.maxAttempts(), retryAfterMillis,
                        policy.retryAfterMaxMillis(), 0, bound));
                return -1;
            }
            wait = retryAfterMillis;
        } else {
            wait = policy.backoffMillis(attempts);
        }
        if (deadline != 0 && System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait) >= deadline) {
            exhausted(new GiveUp(status, GiveUp.Reason.NO_TIME_LEFT, policy.maxAttempts(), retryAfterMillis,
                    policy.retryAfterMaxMillis(), wait, bound));
            return -1;
        }
        if (!retrying) {
            int inFlight = host.requestsInFlight.get();
            if (!host.startRetrying(policy.allowedRetrying(inFlight))) {
                host.retryBudgetExceeded.increment();
                policy.listener().budgetExceeded(this, host.retrying.get(), inFlight);
                return -1;
            }
            retrying = true;
        }
        attempts++;
        host.retries.increment();
        return wait;
    }

    private void exhausted(GiveUp giveUp) {
        host.retriesExhausted.increment();
        policy.listener().exhausted(this, giveUp);
    }

    /**
     * Why a refused request is passed on instead of retried; worded outside the core.
     *
     * @param status              the refusing status, 0 when the connect was refused
     * @param maxAttempts         attempts allowed per request
     * @param retryAfterMillis    what the server's {@code Retry-After} asked for, -1 if nothing
     * @param retryAfterMaxMillis the longest {@code Retry-After} honoured
     * @param waitMillis          {@link Reason#NO_TIME_LEFT}: the wait the caller's timeout left no time for
     * @param bound               which of the caller's timeouts bounds the retries
     */
    public record GiveUp(int status, Reason reason, int maxAttempts, long retryAfterMillis, long retryAfterMaxMillis,
                         long waitMillis, Bound bound) {

        public enum Reason {
            /** Every attempt allowed was made. */
            NO_ATTEMPTS_LEFT,
            /** The server asked to wait longer than the longest {@code Retry-After} honoured. */
            RETRY_AFTER_TOO_LONG,
            /** The caller's own timeout would expire during the wait. */
            NO_TIME_LEFT
        }

        public enum Bound {
            CONNECT_TIMEOUT,
            REQUEST_TIMEOUT
        }
    }

    /**
     * Waits {@code millis} on the calling thread. An interrupt cuts the wait short and stays set
     * (the next attempt's I/O sees it); returns false then.
     */
    public static boolean pause(long millis) {
        if (millis <= 0) {
            return true;
        }
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The request is over: frees its place in flight and its retry budget. Idempotent. */
    public void end() {
        if (ended) {
            return;
        }
        ended = true;
        if (retrying) {
            host.retrying.decrementAndGet();
        }
        if (counted) {
            host.requestsInFlight.decrementAndGet();
        }
    }

    /** {@code GET 127.0.0.1:8080 (OkHttp)}: how log lines name this request. */
    public String describe() {
        String target = host.key().toString();
        return (method == null ? "" : method + " ") + target + " (" + client + ")";
    }
}

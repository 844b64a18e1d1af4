package io.connguard.agent.core;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntPredicate;

/**
 * When to retry a refused request, and how long to wait: the retry settings, the hosts retried at
 * all ({@link #retriesHost}) and the hosts named as registries, free of any client library. Each
 * request under the policy is a {@link RetryCall} from {@link #start}; the client glue asks it, at
 * every refusal, whether and when to try again.
 */
public final class RetryPolicy {

    /** Retries allowed per host at once however few requests are in flight. */
    public static final int MIN_BUDGET = 10;

    /** Where a request's retries that ended in a refusal, and budget refusals, are reported. */
    public interface Listener {
        /** A refused request is passed on to the caller; {@code giveUp} says why. */
        void exhausted(RetryCall call, RetryCall.GiveUp giveUp);

        void budgetExceeded(RetryCall call, int retrying, int inFlight);
    }

    /** Whether a host is named in a list of hosts (the registries, the hosts retried without a cap). */
    public interface HostMatcher {
        boolean matches(String host, int port);
    }

    private final int maxAttempts;
    private final IntPredicate statuses;
    private final Set<String> methods;
    private final long backoffMillis;
    private final long maxBackoffMillis;
    private final long retryAfterMaxMillis;
    private final int budgetPercent;
    private final HostMatcher registries;
    private final HostMatcher named;
    private final Listener listener;

    public RetryPolicy(int maxAttempts, IntPredicate statuses, Set<String> methods, long backoffMillis,
                       long maxBackoffMillis, long retryAfterMaxMillis, int budgetPercent, HostMatcher registries,
                       HostMatcher named, Listener listener) {
        this.maxAttempts = Math.max(1, maxAttempts);
        this.statuses = statuses;
        this.methods = Set.copyOf(methods);
        this.backoffMillis = Math.max(0, backoffMillis);
        this.maxBackoffMillis = Math.max(this.backoffMillis, maxBackoffMillis);
        this.retryAfterMaxMillis = Math.max(0, retryAfterMaxMillis);
        this.budgetPercent = Math.max(0, budgetPercent);
        this.registries = registries;
        this.named = named;
        this.listener = listener;
    }

    /** False when one attempt is all a request may make: nothing is ever retried. */
    public boolean enabled() {
        return maxAttempts > 1;
    }

    public int maxAttempts() {
        return maxAttempts;
    }

    /** Whether a refused response to a {@code method} request may be retried (upper case expected). */
    public boolean retriesMethod(String method) {
        return method != null && methods.contains(method.toUpperCase(Locale.ROOT));
    }

    public boolean retriesStatus(int status) {
        return statuses.test(status);
    }

    public boolean isRegistry(String host, int port) {
        return host != null && registries.matches(host, port);
    }

    /**
     * Whether requests and connects to {@code host} are retried at all: it has a cap now (its own
     * limit, or a share of a fleet-wide cap), it is a registry, or it is named to be retried (which
     * may name every host). A host nobody capped or named is left alone: the agent attached for leak
     * reports only, or for limits on other hosts, changes no answer and no connect failure of it,
     * and a client's own retry rules for it stay the only ones.
     */
    public boolean retriesHost(HostState host) {
        HostKey key = host.key();
        return host.limit() > 0 || host.fleet() != null || isRegistry(key.host(), key.port())
                || named.matches(key.host(), key.port());
    }

    /**
     * A request starts. {@code replayable}: its body (if any) can be sent again.
     * {@code deadlineNanos}: {@link System#nanoTime()} by which the caller's own request timeout
     * expires, 0 for none. {@code counted}: whether it counts as a request in flight for the
     * budget (false for a connect inside a request that is already counted).
     */
    public RetryCall start(HostState host, String client, String method, boolean replayable, long deadlineNanos,
                           boolean counted) {
        if (counted) {
            host.requestsInFlight.incrementAndGet();
        }
        return new RetryCall(this, host, client, method, replayable, deadlineNanos, counted);
    }

    /**
     * Whether a {@code 401} from {@code host:port} is a refusal rather than a challenge: the host
     * is a registry, and the answer either has no usable {@code WWW-Authenticate} challenge, with or
     * without credentials (RFC 9110 §15.5.2 requires a 401 to carry one, so a 401 without one asks
     * for no credentials: anonymous pulls of public projects meet the same full pool), or it
     * answers credentials with an error body that speaks of a database or transport failure
     * (Harbor's answer when its own database pool is exhausted). An anonymous request's challenge
     * is the start of the Bearer or Basic flow, whatever its body says.
     *
     * @param bodyStart the first few kilobytes of the body, or null when not read
     */
    public boolean registryRefusal(String host, int port, boolean credentialsSent, String wwwAuthenticate,
                                   String bodyStart) {
        if (!isRegistry(host, port)) {
            return false;
        }
        return !usableChallenge(wwwAuthenticate) || credentialsSent && refusalBody(bodyStart);
    }

    /** A challenge names a scheme: {@code Bearer realm="…"}, {@code Basic realm=…}. Blank is none. */
    public static boolean usableChallenge(String header) {
        if (header == null) {
            return false;
        }
        String h = header.trim();
        if (h.isEmpty()) {
            return false;
        }
        char c = h.charAt(0);
        return Character.isLetter(c);
    }

    private static final String[] REFUSAL_TEXTS = {
            "database", "too many clients", "too many connections", "connection refused", "connection reset",
            "i/o timeout", "timed out", "timeout exceeded", "deadline exceeded", "broken pipe", "no route to host",
            "bad connection", "pq:", "sql:", "redis", "unexpected eof", "service unavailable", "connection pool",
    };

    /** Whether an error body speaks of a database or transport failure rather than of credentials. */
    public static boolean refusalBody(String body) {
        if (body == null || body.isEmpty()) {
            return false;
        }
        String text = body.toLowerCase(Locale.ROOT);
        for (String t : REFUSAL_TEXTS) {
            if (text.contains(t)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Milliseconds a {@code Retry-After} value asks for: delta-seconds or an HTTP date (relative to
     * {@code nowMillis}; a date in the past is 0). -1 when absent or unreadable.
     */
    public static long retryAfterMillis(String value, long nowMillis) {
        if (value == null) {
            return -1;
        }
        String v = value.trim();
        if (v.isEmpty()) {
            return -1;
        }
        if (Character.isDigit(v.charAt(0))) {
            long seconds = 0;
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c < '0' || c > '9') {
                    return -1;
                }
                seconds = seconds * 10 + (c - '0');
                if (seconds > 10_000_000L) {
                    return Long.MAX_VALUE / 2;
                }
            }
            return seconds * 1000;
        }
        try {
            long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
            return Math.max(0, at - nowMillis);
        } catch (DateTimeParseException e) {
            return -1;
        }
    }

    /** The wait before retry {@code n} (1-based) without a Retry-After: full jitter. */
    long backoffMillis(int n) {
        long cap = backoffMillis;
        for (int i = 1; i < n && cap < maxBackoffMillis; i++) {
            cap *= 2;
        }
        cap = Math.min(cap, maxBackoffMillis);
        return cap <= 0 ? 0 : ThreadLocalRandom.current().nextLong(cap + 1);
    }

    long retryAfterMaxMillis() {
        return retryAfterMaxMillis;
    }

    /** How many of a host's requests may be retrying at once with {@code inFlight} in flight. */
    int allowedRetrying(int inFlight) {
        return Math.max(MIN_BUDGET, (int) ((long) inFlight * budgetPercent / 100));
    }

    Listener listener() {
        return listener;
    }
}

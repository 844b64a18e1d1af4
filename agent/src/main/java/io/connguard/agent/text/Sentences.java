package io.connguard.agent.text;

import io.connguard.agent.core.HostState;
import io.connguard.agent.core.Refusal;
import io.connguard.agent.core.RetryCall;
import io.connguard.agent.core.fleet.FleetHost;

/**
 * Every sentence the agent says to its user about connections, written once: exception messages
 * and log lines, each naming what happened, to which host, and the setting to change. The core
 * decides and reports values ({@link Refusal}, counts, hosts); it names no setting. Leak reports,
 * with their stacks and de-duplication, are {@link LeakReports}.
 *
 * <p>Only strings here, and no bootstrap type: the start-up lines are needed before the bootstrap
 * jar is on the boot class path.
 */
public final class Sentences {

    private Sentences() {
    }

    // ---- a connect that gets no slot: the exception and the log lines of one event --------------

    /** The message of the exception a refused connect throws; see {@link #queueTimedOut}, {@link #queueFull}. */
    public static String refusal(Refusal r) {
        String key = r.host().toString();
        switch (r.reason()) {
            case INTERRUPTED:
                return "connguard: interrupted while waiting for a connection slot to " + key;
            case QUEUE_FULL:
                return "connguard: no connection slot for " + key + ": " + limits(r)
                        + (r.cap() == Refusal.Cap.HOST ? " and" : ", and") + " the line of waiting connects is full ("
                        + r.queueMax() + ", CONNGUARD_QUEUE_MAX). Raise CONNGUARD_QUEUE_MAX or "
                        + (r.cap() == Refusal.Cap.FLEET_FALLBACK ? "CONNGUARD_FLEET_FALLBACK_LIMIT=N."
                        : "the host's limit in " + (r.cap() == Refusal.Cap.HOST ? "CONNGUARD_HOST_LIMITS"
                        : "CONNGUARD_FLEET_LIMITS") + "=" + key + "=N.");
            default:
                String within = r.callerTimeoutMillis() > 0
                        ? "within the caller's connect timeout of " + r.callerTimeoutMillis() + " ms"
                        : "within " + r.waitedMillis() + " ms (CONNGUARD_QUEUE_TIMEOUT)";
                String start = "connguard: no connection slot for " + key + " " + within + "; ";
                String waitLonger = ", or wait longer with CONNGUARD_QUEUE_TIMEOUT.";
                if (r.cap() == Refusal.Cap.HOST) {
                    return start + limits(r) + " and " + r.queued() + " connects are waiting. Raise it with"
                            + " CONNGUARD_HOST_LIMITS=" + key + "=N (or CONNGUARD_MAX_PER_HOST)" + waitLonger;
                }
                return start + limits(r) + ", and " + r.queued() + " connects of this JVM are waiting. Raise it with "
                        + raise(r) + (r.hostLimit() > 0 ? " (and CONNGUARD_HOST_LIMITS)" : "") + waitLonger;
        }
    }

    /** The setting that raises the cap in force, as {@code SETTING=…} to write. */
    private static String raise(Refusal r) {
        switch (r.cap()) {
            case FLEET_FALLBACK:
                return "CONNGUARD_FLEET_FALLBACK_LIMIT=N";
            case FLEET:
                return "CONNGUARD_FLEET_LIMITS=" + r.host() + "=N";
            default:
                return "CONNGUARD_HOST_LIMITS=" + r.host() + "=N";
        }
    }

    private static String limits(Refusal r) {
        String here = r.hostLimit() > 0 ? "; this JVM's own limit is " + r.hostLimit() : "";
        switch (r.cap()) {
            case FLEET_FALLBACK:
                return "the fleet's permit store cannot be reached, so this JVM keeps to the fallback limit of "
                        + r.capLimit() + " open connections to this host" + here;
            case FLEET:
                return "the fleet-wide limit is " + r.capLimit() + " open connections to this host across every JVM of"
                        + " the fleet (" + r.fleetInUse() + " in use when last seen, " + r.inUseHere() + " of them here)"
                        + here;
            default:
                return "the limit is " + r.hostLimit() + " open connections to this host";
        }
    }

    /** Logged each time a connect gives up waiting; the exception says the same in {@link #refusal}. */
    public static String queueTimedOut(Refusal r) {
        String here = r.hostLimit() > 0 ? ", limit here " + r.hostLimit() : "";
        String limit;
        String setting;
        switch (r.cap()) {
            case FLEET_FALLBACK:
                limit = "fallback limit " + (r.capLimit() == 0 ? "none" : Integer.toString(r.capLimit()))
                        + " while the fleet store cannot be used" + here;
                setting = "CONNGUARD_FLEET_FALLBACK_LIMIT"; // one number for every fleet-capped host
                break;
            case FLEET:
                limit = "fleet-wide limit " + r.capLimit() + here;
                setting = "CONNGUARD_FLEET_LIMITS for this host";
                break;
            default:
                limit = "limit " + r.hostLimit();
                setting = "CONNGUARD_HOST_LIMITS for this host";
        }
        return "connguard: connect to " + r.host() + " gave up after waiting " + r.waitedMillis() + " ms for a slot ("
                + limit + ", " + r.queued() + " waiting"
                + (r.callerTimeoutMillis() > 0 ? ", bounded by the caller's connect timeout" : "")
                + "); raise " + setting + " or CONNGUARD_QUEUE_TIMEOUT";
    }

    /** Logged once per host; each refused connect's exception is {@link #refusal}. */
    public static String queueFull(Refusal r) {
        return "connguard: connects to " + r.host() + " are refused at once because the line of waiting connects is"
                + " full (CONNGUARD_QUEUE_MAX); raise CONNGUARD_QUEUE_MAX or the host's limit (logged once per host)";
    }

    /** Logged once per host. */
    public static String ungoverned(HostState host, String threadName) {
        FleetHost f = host.fleet();
        return "connguard: a connect to " + host.key() + " on thread \"" + threadName + "\" went ahead "
                + (f == null ? "over the limit of " + host.limit()
                : "without a fleet permit (none was spare in this JVM; fleet-wide limit " + f.cap() + ")")
                + ": non-blocking connects and event-loop threads never wait for a slot; counted as Ungoverned in"
                + " JMX (logged once per host)";
    }

    public static String newDestination(HostState host) {
        return "connguard: new destination " + host.key() + ", limit "
                + (host.limit() == 0 ? "none" : Integer.toString(host.limit()));
    }

    public static String reclaimFailed(HostState host, Throwable error) {
        return "connguard: closing an idle or leaked connection to " + (host == null ? "?" : host.key().toString())
                + " failed: " + error;
    }

    // ---- fleet mode -------------------------------------------------------------------------------

    /**
     * The fleet's permit store went away.
     *
     * @param store   where it is ({@code FleetBackend.describe()}: never credentials)
     * @param refused whether it answered with an error (a permission) rather than not at all
     */
    public static String fleetFallback(String store, boolean refused, Throwable cause, int fallbackLimit) {
        String why = refused
                ? " refused the permit exchange (" + cause.getMessage() + "; check the Redis user's permissions:"
                        + " see Fleet mode in the README)"
                : " cannot be reached (" + (cause.getMessage() != null ? cause.getMessage() : cause.toString()) + ")";
        return "connguard: fleet store " + store + why + "; connects to fleet-capped hosts go on with at most "
                + (fallbackLimit == 0 ? "no limit" : fallbackLimit + " connections per host")
                + " in this JVM (CONNGUARD_FLEET_FALLBACK_LIMIT) until it is back; trying again every second";
    }

    public static String fleetRecovered(String store) {
        return "connguard: fleet store " + store + " is back; fleet-wide caps hold again";
    }

    // ---- retries ----------------------------------------------------------------------------------

    /** Logged for each request whose retries ended refused. */
    public static String retryExhausted(RetryCall call, RetryCall.GiveUp g) {
        return "connguard: retry [exhausted]: " + call.describe() + " " + retryOutcome(g) + " after " + call.attempts()
                + (call.attempts() == 1 ? " attempt" : " attempts") + "; " + retryReason(g)
                + "; passing it on to the caller";
    }

    /** "answered 503" or "connect refused". */
    public static String retryOutcome(RetryCall.GiveUp g) {
        return g.status() == 0 ? "connect refused" : "answered " + g.status();
    }

    /** Why the request is passed on, with the setting that would change it. */
    public static String retryReason(RetryCall.GiveUp g) {
        switch (g.reason()) {
            case NO_ATTEMPTS_LEFT:
                return "no attempts left (CONNGUARD_RETRY_MAX_ATTEMPTS=" + g.maxAttempts() + ")";
            case RETRY_AFTER_TOO_LONG:
                return "it asked to retry after " + seconds(g.retryAfterMillis()) + ", longer than"
                        + " CONNGUARD_RETRY_AFTER_MAX allows (" + seconds(g.retryAfterMaxMillis()) + ")";
            default:
                return (g.bound() == RetryCall.GiveUp.Bound.CONNECT_TIMEOUT ? "the caller's connect timeout"
                        : "the caller's request timeout") + " leaves no time to wait " + g.waitMillis()
                        + " ms for another attempt";
        }
    }

    private static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }
}

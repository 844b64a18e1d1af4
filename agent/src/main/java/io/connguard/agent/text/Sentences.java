package io.connguard.agent.text;

import io.connguard.agent.core.HostState;
import io.connguard.agent.core.Refusal;
import io.connguard.agent.core.RetryCall;
import io.connguard.agent.core.fleet.FleetHost;

/**
 * Every sentence the agent says to its user, written once: exception messages and log lines, each
 * naming what happened, to which host, and the setting to change. The core decides and reports
 * values ({@link Refusal}, {@link RetryCall.GiveUp}, counts, hosts) and names no setting; the words
 * are here, so that one event reads the same in its exception and in its log line. Leak reports,
 * with their stacks and de-duplication, are {@link LeakReports}. Configuration errors are worded
 * where they are found ({@code config}), since they name the setting being read.
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

    // ---- start-up: also the attach result that the status command prints -------------------------

    /** A setting that does not parse, as {@code config} describes it (naming the setting, the value, what is accepted). */
    public static String settingProblem(String problem) {
        return "connguard: " + problem;
    }

    public static String strictRefusal() {
        return "connguard: not starting: CONNGUARD_STRICT=true and the settings above are invalid;"
                + " the application runs without ConnGuard. Fix them or set CONNGUARD_STRICT=false.";
    }

    public static String strictRefusalResult(java.util.List<String> problems) {
        return "not started: CONNGUARD_STRICT=true and the settings are invalid: " + String.join("; ", problems);
    }

    public static String disabled() {
        return "connguard: disabled by CONNGUARD_ENABLED=false; nothing installed";
    }

    public static String disabledResult() {
        return "not started: CONNGUARD_ENABLED=false";
    }

    public static String alreadyRunning() {
        return "connguard: already running in this JVM; the second start was refused";
    }

    public static String alreadyRunningResult() {
        return "refused: ConnGuard is already running in this JVM";
    }

    public static String startFailed(Throwable t) {
        return "connguard: failed to start; the application runs without ConnGuard: " + t;
    }

    public static String started(String version, boolean late, long premainMillis, long readyMillis, String settings) {
        return "connguard: started " + version + (late ? " (attached late)" : "") + " (premain " + premainMillis
                + " ms, class rewriting ready after " + readyMillis + " ms): " + settings;
    }

    public static String reaperFailed(Throwable t) {
        return "connguard: leak reaper error: " + t;
    }

    // ---- class rewriting ---------------------------------------------------------------------------

    /** A type we meant to rewrite and could not, at load time or when retransformed. */
    public static String notRewritten(String type, Throwable t) {
        return "connguard: could not rewrite " + type + "; connections through it are not governed: " + t;
    }

    public static String rewrote(String type) {
        return "connguard: rewrote " + type;
    }

    public static String setUpSlow(long waitedSeconds, String type) {
        return "connguard: set-up took over " + waitedSeconds + " s; " + type
                + " loads unrewritten and is rewritten when set-up ends";
    }

    public static String rewritingFailed(Throwable t) {
        return "connguard: could not set up class rewriting; nothing is governed: " + t;
    }

    public static String retransformFailed(Object types, Throwable t) {
        return "connguard: could not rewrite already loaded " + types + "; they are not governed: " + t;
    }

    public static String retransformed(int count) {
        return "connguard: " + count + " already loaded types retransformed";
    }

    // ---- JMX and metrics --------------------------------------------------------------------------

    public static String jmxFailed(Throwable t) {
        return "connguard: could not register the JMX MBeans, JMX shows nothing from ConnGuard: " + t;
    }

    public static String jmxTooManyHosts(int max) {
        return "connguard: more than " + max + " destinations; further ones get no Host MBean"
                + " (the Agent MBean's listHosts still shows them)";
    }

    public static String jmxHostFailed(HostState host, Throwable t) {
        return "connguard: could not register the Host MBean for " + host.key() + ": " + t;
    }

    /** What is wrong with a limit change asked over JMX, or null when nothing is. */
    public static String badHostLimit(String host, int port, int limit) {
        if (host == null || host.isBlank()) {
            return "host must be a host name or address, as the application names it";
        }
        if (port < 1 || port > 65535) {
            return "port must be 1-65535, not " + port;
        }
        return limit < 0 ? "limit must be 0 (no limit) or more, not " + limit : null;
    }

    public static String hostLimitSet(HostState h, int limit) {
        return "limit for " + h.key() + " is now " + (limit == 0 ? "none" : Integer.toString(limit))
                + " (open " + h.open() + ", queued " + h.queued() + ")";
    }

    /** Appended to a leak row of the JMX listing when no stack was taken. */
    public static String noStackCaptured() {
        return " (no stack captured; CONNGUARD_LEAK_STACKS)";
    }

    public static String metricsTooManyHosts(int max) {
        return "connguard: more than " + max
                + " destinations; further ones get no meters (JMX and the status command still show them)";
    }

    public static String metricsBindFailed(String registry, Throwable t) {
        return "connguard: could not register meters in " + registry + " (" + t + "); JMX and the status command"
                + " still show everything (logged once per registry)";
    }

    public static String micrometerLookupFailed(Throwable t) {
        return "connguard: could not look for the application's Micrometer: " + t;
    }

    public static String metricsThreadFailed(Throwable t) {
        return "connguard: the metrics thread hit " + t;
    }

    public static String metricsBridgeRefused(ClassLoader loader, Throwable t) {
        return "connguard: the application's Micrometer (class loader " + loader + ") cannot take the"
                + " agent's meters (" + t + "); they stay in JMX, status and CONNGUARD_PROMETHEUS_PORT";
    }

    public static String metricsBridged(String registry) {
        return "connguard: meters registered in " + registry + " (CONNGUARD_METRICS_BRIDGE=false to keep them out)";
    }

    public static String prometheusPortTaken(String where, Exception e) {
        return "connguard: the Prometheus endpoint could not listen on " + where + " (" + e.getMessage()
                + "); no metrics are served: set CONNGUARD_PROMETHEUS_PORT to a free port"
                + " (or CONNGUARD_PROMETHEUS_HOST to an address of this machine)";
    }

    public static String prometheusListenFailed(String where, Throwable t) {
        return "connguard: the Prometheus endpoint could not listen on " + where + " (" + t
                + "); no metrics are served: check CONNGUARD_PROMETHEUS_HOST and CONNGUARD_PROMETHEUS_PORT";
    }

    public static String prometheusStartFailed(String where, Throwable t) {
        return "connguard: the Prometheus endpoint on " + where + " could not start (" + t + "); no metrics are served";
    }

    public static String prometheusServing(String where) {
        return "connguard: Prometheus metrics at http://" + where + "/metrics (CONNGUARD_PROMETHEUS_PORT)";
    }

    public static String prometheusScrapeFailed(Throwable t) {
        return "connguard: a Prometheus scrape failed: " + t;
    }

    // ---- the hooks and the retry glue ---------------------------------------------------------

    public static String channelDescriptorHidden(Throwable t) {
        return "connguard: cannot see a SocketChannel's descriptor; one dropped without close() keeps it open: " + t;
    }

    public static String poolHidden(Object pooled, Throwable t) {
        return "connguard: cannot see inside a connection pool (" + (pooled == null ? "null" : pooled.getClass().getName())
                + "), so its idle connections are not reclaimed and its leaks not reported: " + t;
    }

    public static String listenerFailed(String callback, Throwable error) {
        return "connguard: internal error reporting " + callback
                + "; connection accounting is unaffected (reported once): " + error;
    }

    public static String internalError(String where, Throwable error) {
        return "connguard: internal error in " + where + "; the connection proceeds ungoverned (reported once): " + error;
    }

    public static String retryBudgetExceeded(HostState host, int retrying, int inFlight, int budgetPercent, int minBudget) {
        return "connguard: retry [budget]: " + host.key() + ": " + retrying + " of " + inFlight
                + " requests in flight are already being retried, so refusals are passed on at once (retry budget: "
                + budgetPercent + "% of requests in flight, at least " + minBudget + "; CONNGUARD_RETRY_BUDGET="
                + budgetPercent + ")";
    }

    public static String retryGlueFailed(String client, Throwable t) {
        return "connguard: internal error in the retry of " + client + "; passing the response on: " + t;
    }
}

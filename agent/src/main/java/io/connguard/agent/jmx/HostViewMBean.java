package io.connguard.agent.jmx;

/** {@code io.connguard:type=Host,host=<host>,port=<port>}: one destination. */
public interface HostViewMBean {
    String getHost();

    int getPort();

    /** Open connections allowed at once; 0 = no limit. Writable: takes effect at once. */
    int getLimit();

    void setLimit(int limit);

    boolean isLimitOverridden();

    int getOpen();

    int getIdle();

    int getInUse();

    int getQueued();

    int getPeakOpen();

    long getConnects();

    long getWaits();

    long getTotalWaitMillis();

    long getQueueTimeouts();

    long getQueueFull();

    long getReclaimed();

    /** Connections handed from a request that ended straight to one that waited for its pool (reused). */
    long getHandOvers();

    /** Leak reports for this host, from both detectors (age and garbage). */
    long getLeaks();

    /** Retries made for this host: another attempt after a refused response or a refused connect. */
    long getRetries();

    /** Requests whose retries ended with the refusal passed on (attempts used up, Retry-After too long, timeout). */
    long getRetriesExhausted();

    /** Refusals passed on at once because the host's retry budget was in use. */
    long getRetryBudgetExceeded();

    /** Requests to this host in flight through a client whose refusals are retried. */
    int getRequestsInFlight();

    /** Of those, how many are retrying now (waiting or re-sent). */
    int getRetrying();

    /** How long the longest-held connection in use has been held (since borrowed, or opened), in ms. */
    long getOldestLeaseAgeMillis();

    long getUngoverned();

    /** The fleet-wide cap of this destination (CONNGUARD_FLEET_LIMITS); 0 = none. */
    int getFleetLimit();

    /**
     * "fleet" (the fleet cap holds), "fallback" (Redis cannot be reached: CONNGUARD_FLEET_FALLBACK_LIMIT),
     * "rejoining" (Redis answers again; the fallback cap holds for 1.5 s while every JVM re-claims), or "none".
     */
    String getFleetMode();

    /** Fleet permits this JVM holds now (in use or spare); the fallback cap while in fallback. */
    int getFleetPermitsHeld();

    /** Connections of this JVM holding a fleet permit now. */
    int getFleetInUseHere();

    /** Permits held by every JVM of the fleet together, as last seen; -1 when unknown. */
    int getFleetInUse();

    /** Times this destination switched to the fallback cap. */
    long getFleetFallbacks();

    /** Connects that had to wait for a fleet permit because none was spare in this JVM. */
    long getFleetWaits();
}

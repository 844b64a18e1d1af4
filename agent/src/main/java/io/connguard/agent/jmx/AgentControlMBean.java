package io.connguard.agent.jmx;

/** {@code io.connguard:type=Agent}: configuration, totals and run-time operations. */
public interface AgentControlMBean {
    String getVersion();

    /** The effective configuration, one line. */
    String getConfiguration();

    long getQueueTimeoutMillis();

    int getQueueMax();

    int getMaxPerHost();

    String getHostLimits();

    int getHosts();

    int getOpen();

    long getConnects();

    long getQueueTimeouts();

    long getReclaimed();

    long getLeaks();

    /** Retries made, over all hosts. */
    long getRetries();

    long getRetriesExhausted();

    long getRetryBudgetExceeded();

    /** The fleet's Redis (credentials masked) and fleet name; empty without fleet mode. */
    String getFleetStore();

    /** Whether the fleet's Redis could not be reached at the last try (fleet-capped hosts use the fallback cap). */
    boolean isFleetStoreDown();

    /** Times the agent fell back because the fleet's Redis could not be reached. */
    long getFleetFallbacks();

    /** Exchanges with the fleet's Redis so far. */
    long getFleetExchanges();

    /** How long the last exchange with the fleet's Redis took, in milliseconds; -1 before the first. */
    double getFleetRedisLatencyMillis();

    /**
     * Sets the limit for one destination at run time (0 = no limit); waiters are admitted at once
     * when it is raised. Returns a one-line confirmation.
     */
    String setHostLimit(String host, int port, int limit);

    /** One line per destination: host:port, limit, open, idle, in use, queued, peak. */
    String[] listHosts();

    /**
     * One entry per open connection: host:port, state, age, opening thread, and for one lent out
     * by a pool the client, borrowing thread, borrow age and the borrowing stack if captured.
     */
    String[] listOpenConnections();

    /**
     * The current suspected leaks (borrowed, held and idle past CONNGUARD_LEAK_THRESHOLD, not
     * back yet: host, client, age, state, thread, stack), then the most recent leak reports of
     * both detectors, newest last.
     */
    String[] listLeaks();

    /** Sets every destination's PeakOpen back to what is open now. */
    void resetPeaks();
}

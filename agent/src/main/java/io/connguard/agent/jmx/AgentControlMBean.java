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

    /**
     * Sets the limit for one destination at run time (0 = no limit); waiters are admitted at once
     * when it is raised. Returns a one-line confirmation.
     */
    String setHostLimit(String host, int port, int limit);

    /** One line per destination: host:port, limit, open, idle, in use, queued, peak. */
    String[] listHosts();

    /** One line per open connection: host:port, state, age, opening thread. */
    String[] listOpenConnections();

    /** The most recent leak reports (connections garbage-collected without close). */
    String[] listLeaks();

    /** Sets every destination's PeakOpen back to what is open now. */
    void resetPeaks();
}

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

    /** Leak reports for this host, from both detectors (age and garbage). */
    long getLeaks();

    /** How long the longest-held connection in use has been held (since borrowed, or opened), in ms. */
    long getOldestLeaseAgeMillis();

    long getUngoverned();
}

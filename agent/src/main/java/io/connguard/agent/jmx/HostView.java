package io.connguard.agent.jmx;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.fleet.FleetHost;
import io.connguard.agent.text.Sentences;

/** Reads one {@link HostState}; the only write goes through {@link Governor#setLimit}. */
final class HostView implements HostViewMBean {
    private final Governor governor;
    private final HostState host;

    HostView(Governor governor, HostState host) {
        this.governor = governor;
        this.host = host;
    }

    @Override
    public String getHost() {
        return host.key().host();
    }

    @Override
    public int getPort() {
        return host.key().port();
    }

    @Override
    public int getLimit() {
        return host.limit();
    }

    @Override
    public void setLimit(int limit) {
        String bad = Sentences.badHostLimit(host.key().host(), host.key().port(), limit);
        if (bad != null) {
            throw new IllegalArgumentException(bad);
        }
        governor.setLimit(host.key().host(), host.key().port(), limit);
    }

    @Override
    public boolean isLimitOverridden() {
        return host.limitOverridden();
    }

    @Override
    public int getOpen() {
        return host.open();
    }

    @Override
    public int getIdle() {
        return host.idle();
    }

    @Override
    public int getInUse() {
        return host.inUse();
    }

    @Override
    public int getQueued() {
        return host.queued();
    }

    @Override
    public int getPeakOpen() {
        return host.peakOpen();
    }

    @Override
    public long getConnects() {
        return host.connects();
    }

    @Override
    public long getWaits() {
        return host.waits();
    }

    @Override
    public long getTotalWaitMillis() {
        return host.totalWaitMillis();
    }

    @Override
    public long getQueueTimeouts() {
        return host.queueTimeouts();
    }

    @Override
    public long getQueueFull() {
        return host.queueFull();
    }

    @Override
    public long getReclaimed() {
        return host.reclaimed();
    }

    @Override
    public long getHandOvers() {
        return host.handOvers();
    }

    @Override
    public long getLeaks() {
        return host.leaks();
    }

    @Override
    public long getRetries() {
        return host.retries();
    }

    @Override
    public long getRetriesExhausted() {
        return host.retriesExhausted();
    }

    @Override
    public long getRetryBudgetExceeded() {
        return host.retryBudgetExceeded();
    }

    @Override
    public int getRequestsInFlight() {
        return host.requestsInFlight();
    }

    @Override
    public int getRetrying() {
        return host.retryingNow();
    }

    @Override
    public long getOldestLeaseAgeMillis() {
        return governor.oldestInUseMillis(host);
    }

    @Override
    public long getUngoverned() {
        return host.ungoverned();
    }

    @Override
    public int getFleetLimit() {
        FleetHost f = host.fleet();
        return f == null ? 0 : f.cap();
    }

    @Override
    public String getFleetMode() {
        FleetHost f = host.fleet();
        return f == null ? "none" : f.fleetMode() ? "fleet" : f.rejoining() ? "rejoining" : "fallback";
    }

    @Override
    public int getFleetPermitsHeld() {
        FleetHost f = host.fleet();
        return f == null ? 0 : f.allowance();
    }

    @Override
    public int getFleetInUseHere() {
        FleetHost f = host.fleet();
        return f == null ? 0 : f.inUse();
    }

    @Override
    public int getFleetInUse() {
        FleetHost f = host.fleet();
        return f == null ? -1 : f.fleetInUse();
    }

    @Override
    public long getFleetFallbacks() {
        FleetHost f = host.fleet();
        return f == null ? 0 : f.fallbacks();
    }

    @Override
    public long getFleetWaits() {
        FleetHost f = host.fleet();
        return f == null ? 0 : f.waits();
    }
}

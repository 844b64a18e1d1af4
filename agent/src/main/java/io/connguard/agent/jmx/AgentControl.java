package io.connguard.agent.jmx;

import io.connguard.agent.core.Borrow;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.Lease;
import io.connguard.agent.core.fleet.FleetCoordinator;
import io.connguard.agent.log.StackText;
import io.connguard.agent.text.Sentences;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;

/** The Agent MBean: reads the {@link Governor}; its one write goes through {@link Governor#setLimit}. */
final class AgentControl implements AgentControlMBean {

    /** What the MBean shows of the configuration; filled in by the agent. */
    static final class Settings {
        final String version;
        final String description;
        final int maxPerHost;
        final String hostLimits;
        final int queueMax;

        Settings(String version, String description, int maxPerHost, String hostLimits, int queueMax) {
            this.version = version;
            this.description = description;
            this.maxPerHost = maxPerHost;
            this.hostLimits = hostLimits;
            this.queueMax = queueMax;
        }
    }

    private final Governor governor;
    private final Settings settings;
    private final Supplier<List<String>> recentLeaks;

    private final FleetCoordinator fleet;

    AgentControl(Governor governor, Settings settings, Supplier<List<String>> recentLeaks, FleetCoordinator fleet) {
        this.governor = governor;
        this.fleet = fleet;
        this.settings = settings;
        this.recentLeaks = recentLeaks;
    }

    @Override
    public String getVersion() {
        return settings.version;
    }

    @Override
    public String getConfiguration() {
        return settings.description;
    }

    @Override
    public long getQueueTimeoutMillis() {
        return governor.queueTimeoutMillis();
    }

    @Override
    public int getQueueMax() {
        return settings.queueMax;
    }

    @Override
    public int getMaxPerHost() {
        return settings.maxPerHost;
    }

    @Override
    public String getHostLimits() {
        return settings.hostLimits;
    }

    @Override
    public int getHosts() {
        return governor.hosts().size();
    }

    @Override
    public int getOpen() {
        return governor.openCount();
    }

    @Override
    public long getConnects() {
        return governor.hosts().stream().mapToLong(HostState::connects).sum();
    }

    @Override
    public long getQueueTimeouts() {
        return governor.hosts().stream().mapToLong(HostState::queueTimeouts).sum();
    }

    @Override
    public long getReclaimed() {
        return governor.hosts().stream().mapToLong(HostState::reclaimed).sum();
    }

    @Override
    public long getLeaks() {
        return governor.hosts().stream().mapToLong(HostState::leaks).sum();
    }

    @Override
    public long getRetries() {
        return governor.hosts().stream().mapToLong(HostState::retries).sum();
    }

    @Override
    public long getRetriesExhausted() {
        return governor.hosts().stream().mapToLong(HostState::retriesExhausted).sum();
    }

    @Override
    public long getRetryBudgetExceeded() {
        return governor.hosts().stream().mapToLong(HostState::retryBudgetExceeded).sum();
    }

    @Override
    public String getFleetStore() {
        return fleet == null ? "" : fleet.backend();
    }

    @Override
    public boolean isFleetStoreDown() {
        return fleet != null && fleet.down();
    }

    @Override
    public long getFleetFallbacks() {
        return fleet == null ? 0 : fleet.fallbackCount();
    }

    @Override
    public long getFleetExchanges() {
        return fleet == null ? 0 : fleet.syncCount();
    }

    @Override
    public double getFleetRedisLatencyMillis() {
        long nanos = fleet == null ? -1 : fleet.lastSyncNanos();
        return nanos < 0 ? -1 : nanos / 1_000_000.0;
    }

    @Override
    public String setHostLimit(String host, int port, int limit) {
        String bad = Sentences.badHostLimit(host, port, limit);
        if (bad != null) {
            throw new IllegalArgumentException(bad);
        }
        HostState h = governor.setLimit(host.trim(), port, limit);
        return Sentences.hostLimitSet(h, limit);
    }

    @Override
    public String[] listHosts() {
        List<String> out = new ArrayList<>();
        governor.hosts().stream().sorted(Comparator.comparing(h -> h.key().toString())).forEach(h -> out.add(
                h.key() + " limit=" + h.limit() + " open=" + h.open() + " idle=" + h.idle() + " inUse=" + h.inUse()
                        + " queued=" + h.queued() + " peakOpen=" + h.peakOpen() + " connects=" + h.connects()
                        + " queueTimeouts=" + h.queueTimeouts() + " reclaimed=" + h.reclaimed()
                        + " leaks=" + h.leaks() + " retries=" + h.retries() + " retriesExhausted="
                        + h.retriesExhausted() + " retryBudgetExceeded=" + h.retryBudgetExceeded()));
        return out.toArray(new String[0]);
    }

    @Override
    public String[] listOpenConnections() {
        long now = System.currentTimeMillis();
        List<String> out = new ArrayList<>();
        governor.openLeases().stream().sorted(Comparator.comparingLong(Lease::openedAtMillis)).forEach(l -> {
            StringBuilder line = new StringBuilder().append(l.hostKey()).append(" state=").append(l.stateName())
                    .append(" ageMs=").append(now - l.openedAtMillis()).append(" thread=").append(l.threadName());
            Borrow b = l.borrow();
            if (b != null) {
                line.append(" client=").append(b.client()).append(" borrowedMs=").append(now - b.borrowedAtMillis())
                        .append(" borrowThread=").append(b.threadName());
                if (b.stack() != null) {
                    line.append(stackText(b.stack()));
                }
            }
            out.add(line.toString());
        });
        return out.toArray(new String[0]);
    }

    @Override
    public String[] listLeaks() {
        long now = System.currentTimeMillis();
        List<String> out = new ArrayList<>();
        for (Borrow b : governor.suspectedLeaks()) {
            StringBuilder line = new StringBuilder("suspected ").append(b.hostKey()).append(" client=")
                    .append(b.client()).append(" ageMs=").append(now - b.borrowedAtMillis()).append(" state=")
                    .append(b.stateName()).append(" thread=").append(b.threadName());
            line.append(b.stack() == null ? Sentences.noStackCaptured() : stackText(b.stack()));
            out.add(line.toString());
        }
        for (String r : recentLeaks.get()) {
            out.add("reported " + r);
        }
        return out.toArray(new String[0]);
    }

    private static String stackText(Throwable stack) {
        return StackText.frames(stack).replace(System.lineSeparator(), "\n");
    }

    @Override
    public void resetPeaks() {
        governor.resetPeaks();
    }
}

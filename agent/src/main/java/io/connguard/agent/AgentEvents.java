package io.connguard.agent;

import io.connguard.agent.config.Durations;
import io.connguard.agent.config.LogLevel;
import io.connguard.agent.core.Borrow;
import io.connguard.agent.core.fleet.FleetHost;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.Lease;
import io.connguard.agent.jmx.JmxRegistrar;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.metrics.HostMeterBinder;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What the core's events turn into: log lines, the JMX registrar's work, the leak reaper's start,
 * and the short list of recent leaks that JMX shows. Each log line says what happened, to which
 * host, and what the user can change.
 */
final class AgentEvents implements Governor.Listener {

    private static final int RECENT_LEAKS = 100;

    private final Runnable onFirstHost;
    private volatile JmxRegistrar jmx;
    /** Null when no meters can ever be registered (no Prometheus port, CONNGUARD_METRICS_BRIDGE=false). */
    private volatile HostMeterBinder metrics;
    private volatile boolean started;
    private volatile LeakReports reports = new LeakReports("1m", "sampled");
    private final ArrayDeque<String> recentLeaks = new ArrayDeque<>();
    private final ReentrantLock leaksLock = new ReentrantLock();

    AgentEvents(Runnable onFirstHost) {
        this.onFirstHost = onFirstHost;
    }

    void setJmx(JmxRegistrar registrar) {
        this.jmx = registrar;
    }

    void setMetrics(HostMeterBinder binder) {
        this.metrics = binder;
    }

    @Override
    public void hostAdded(HostState host) {
        if (!started) {
            started = true;
            onFirstHost.run();
        }
        JmxRegistrar r = jmx;
        if (r != null) {
            r.hostAdded(host);
        }
        HostMeterBinder m = metrics;
        if (m != null) {
            m.hostAdded(host);
        }
        AgentLog.debug("connguard: new destination " + host.key() + ", limit "
                + (host.limit() == 0 ? "none" : Integer.toString(host.limit())));
    }

    void setLeakSettings(long thresholdMillis, String stacksMode) {
        this.reports = new LeakReports(thresholdMillis == 0 ? "off" : Durations.format(thresholdMillis), stacksMode);
    }

    @Override
    public void leaked(HostState host, Lease lease, long ageMillis) {
        boolean channel = lease.isChannel();
        String report = reports.garbageConnection(host, lease, ageMillis, channel);
        Borrow b = lease.borrow();
        Throwable stack = b != null && b.stack() != null ? b.stack() : lease.stack();
        warn(LeakReports.key("garbage", host, b != null ? b.client() : channel ? "channel" : "socket", stack), report);
    }

    @Override
    public void leakSuspected(HostState host, Borrow borrow, long heldMillis, long idleMillis) {
        warn(LeakReports.key("age", host, borrow.client(), borrow.stack()),
                reports.age(host, borrow, heldMillis, idleMillis));
    }

    @Override
    public void leakReturned(HostState host, Borrow borrow, long heldMillis) {
        AgentLog.info(reports.returned(host, borrow, heldMillis));
    }

    @Override
    public void handleLeaked(HostState host, Borrow borrow, long heldMillis, boolean retired) {
        warn(LeakReports.key("handle", host, borrow.client(), borrow.stack()),
                reports.garbageHandle(host, borrow, heldMillis, retired));
    }

    private void warn(String key, String report) {
        String text = reports.dedup(key, report);
        if (text != null) {
            AgentLog.warn(text);
        }
        int cut = report.indexOf(System.lineSeparator());
        remember(cut < 0 ? report : report.substring(0, cut));
    }

    private void remember(String line) {
        leaksLock.lock();
        try {
            if (recentLeaks.size() == RECENT_LEAKS) {
                recentLeaks.removeFirst();
            }
            recentLeaks.addLast(Instant.now() + " " + line.replaceFirst("^connguard: ", ""));
        } finally {
            leaksLock.unlock();
        }
    }

    List<String> recentLeaks() {
        leaksLock.lock();
        try {
            return new ArrayList<>(recentLeaks);
        } finally {
            leaksLock.unlock();
        }
    }

    @Override
    public void queueTimedOut(HostState host, long waitedMillis, boolean callerTimeout) {
        FleetHost f = host.fleet();
        String limit = f == null ? "limit " + host.limit()
                : f.fleetMode() ? "fleet-wide limit " + f.cap() + (host.limit() > 0 ? ", limit here " + host.limit() : "")
                : "fallback limit " + (f.allowance() == 0 ? "none" : Integer.toString(f.allowance()))
                        + " while the fleet store cannot be used" + (host.limit() > 0 ? ", limit here " + host.limit() : "");
        AgentLog.warn("connguard: connect to " + host.key() + " gave up after waiting " + waitedMillis
                + " ms for a slot (" + limit + ", " + host.queued() + " waiting"
                + (callerTimeout ? ", bounded by the caller's connect timeout" : "")
                + "); raise " + (f == null ? "CONNGUARD_HOST_LIMITS" : f.fleetMode() ? "CONNGUARD_FLEET_LIMITS"
                : "CONNGUARD_FLEET_FALLBACK_LIMIT") + " for this host or CONNGUARD_QUEUE_TIMEOUT");
    }

    @Override
    public void queueWaitEnded(HostState host, long waitedNanos, boolean acquired) {
        HostMeterBinder m = metrics;
        if (m != null) {
            m.queueWaitEnded(host, waitedNanos);
        }
    }

    @Override
    public void queueFull(HostState host) {
        AgentLog.once(LogLevel.WARN, "queue-full:" + host.key(), "connguard: connects to " + host.key()
                + " are refused at once because the line of waiting connects is full (CONNGUARD_QUEUE_MAX);"
                + " raise CONNGUARD_QUEUE_MAX or the host's limit (logged once per host)", null);
    }

    @Override
    public void ungoverned(HostState host, String threadName) {
        FleetHost f = host.fleet();
        AgentLog.once(LogLevel.WARN, "ungoverned:" + host.key(), "connguard: a connect to " + host.key()
                + " on thread \"" + threadName + "\" went ahead " + (f == null ? "over the limit of " + host.limit()
                : "without a fleet permit (none was spare in this JVM; fleet-wide limit " + f.cap() + ")")
                + ": non-blocking connects and event-loop threads never wait for a slot; counted as Ungoverned in"
                + " JMX (logged once per host)", null);
    }

    @Override
    public void reclaimFailed(HostState host, Throwable error) {
        String where = host == null ? "?" : host.key().toString();
        AgentLog.once(LogLevel.DEBUG, "reclaim:" + where, "connguard: closing an idle or leaked connection to "
                + where + " failed: " + error, null);
    }
}

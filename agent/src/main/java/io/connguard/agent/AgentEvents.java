package io.connguard.agent;

import io.connguard.agent.config.Durations;
import io.connguard.agent.config.LogLevel;
import io.connguard.agent.core.Borrow;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.Lease;
import io.connguard.agent.core.Refusal;
import io.connguard.agent.core.fleet.FleetBackend;
import io.connguard.agent.core.fleet.FleetCoordinator;
import io.connguard.agent.jmx.JmxRegistrar;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.metrics.HostMeterBinder;
import io.connguard.agent.text.LeakReports;
import io.connguard.agent.text.Sentences;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What the core's events turn into: log lines (worded by {@link Sentences} and {@link LeakReports}),
 * the JMX registrar's work, the leak reaper's start, and the short list of recent leaks that JMX
 * shows.
 */
final class AgentEvents implements Governor.Listener, FleetCoordinator.Events {

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
    public void listenerFailed(String callback, Throwable error) {
        AgentLog.once(LogLevel.WARN, "listener:" + callback + ":" + error.getClass().getName(),
                Sentences.listenerFailed(callback, error), error);
    }

    @Override
    public void hostAdded(HostState host) {
        if (!started) {
            // Marked started only once it ran: a reaper that could not start (an OutOfMemoryError
            // when no thread can be had) is tried again with the next destination; marked before,
            // it never was, and no connection dropped unclosed ever gave its slot back.
            onFirstHost.run();
            started = true;
        }
        JmxRegistrar r = jmx;
        if (r != null) {
            r.hostAdded(host);
        }
        HostMeterBinder m = metrics;
        if (m != null) {
            m.hostAdded(host);
        }
        AgentLog.debug(Sentences.newDestination(host));
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
    public void queueTimedOut(HostState host, Refusal refusal) {
        AgentLog.warn(Sentences.queueTimedOut(refusal));
    }

    @Override
    public void queueWaitEnded(HostState host, long waitedNanos, boolean acquired) {
        HostMeterBinder m = metrics;
        if (m != null) {
            m.queueWaitEnded(host, waitedNanos);
        }
    }

    @Override
    public void queueFull(HostState host, Refusal refusal) {
        AgentLog.once(LogLevel.WARN, "queue-full:" + host.key(), Sentences.queueFull(refusal), null);
    }

    @Override
    public void ungoverned(HostState host, String threadName) {
        AgentLog.once(LogLevel.WARN, "ungoverned:" + host.key(), Sentences.ungoverned(host, threadName), null);
    }

    @Override
    public void reclaimFailed(HostState host, Throwable error) {
        String where = host == null ? "?" : host.key().toString();
        AgentLog.once(LogLevel.DEBUG, "reclaim:" + where, Sentences.reclaimFailed(host, error), null);
    }

    // ---- the fleet coordinator's events: one line when the store goes away, one when it is back ----

    @Override
    public void fallback(FleetBackend backend, Throwable cause, int fallbackLimit) {
        AgentLog.warn(Sentences.fleetFallback(backend.describe(), cause instanceof FleetBackend.Refused, cause,
                fallbackLimit));
    }

    @Override
    public void recovered(FleetBackend backend) {
        AgentLog.info(Sentences.fleetRecovered(backend.describe()));
    }
}

package io.connguard.agent.metrics;

import io.connguard.ConnectionLimitException;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.LocalSlotStore;
import io.connguard.agent.core.line.HostLine;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The meters read the core: a Governor driven by hand, its meters in a SimpleMeterRegistry. */
class HostMetersTest {

    private final HostMeterBinder binder = expecting(new HostMeterBinder(() -> { }));

    private static HostMeterBinder expecting(HostMeterBinder b) {
        b.expectSink();
        return b;
    }

    private final Governor.Listener listener = new Governor.Listener() {
        @Override
        public void hostAdded(HostState host) {
            binder.hostAdded(host);
        }

        @Override
        public void queueWaitEnded(HostState host, long waitedNanos, boolean acquired) {
            binder.queueWaitEnded(host, waitedNanos);
        }
    };
    private final Governor governor = new Governor((h, p) -> h.equals("unlimited") ? 0 : 1, new LocalSlotStore(),
            100, 10, listener);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void everyMeterReadsItsHostAndATimeoutBeforeBindingStillCounts() throws Exception {
        Object first = new Object();
        assertThat(governor.beforeConnect(first, "registry.local", 5000, 0, true)).isSameAs(Governor.ACQUIRED);
        assertThat(governor.beforeConnect(new Object(), "registry.local", 5000, 0, true))
                .isInstanceOf(ConnectionLimitException.class);
        assertThat(registry.getMeters()).as("nothing registered before the metrics thread binds").isEmpty();

        assertThat(binder.bindPending(registry)).isEqualTo(1);
        assertThat(gauge(HostMeters.OPEN)).isEqualTo(1);
        assertThat(gauge(HostMeters.IDLE)).isZero();
        assertThat(gauge(HostMeters.IN_USE)).isEqualTo(1);
        assertThat(gauge(HostMeters.LIMIT)).isEqualTo(1);
        assertThat(gauge(HostMeters.PEAK)).isEqualTo(1);
        assertThat(gauge(HostMeters.QUEUED)).isZero();
        assertThat(counter(HostMeters.CONNECTS)).isEqualTo(1);
        assertThat(counter(HostMeters.TIMEOUTS)).isEqualTo(1);
        assertThat(counter(HostMeters.FULL)).isZero();
        assertThat(counter(HostMeters.RECLAIMED)).isZero();
        assertThat(counter(HostMeters.HANDED_OVER)).isZero();
        assertThat(counter(HostMeters.UNGOVERNED)).isZero();
        Timer wait = registry.get(HostMeters.WAIT).tag("host", "registry.local").tag("port", "5000").timer();
        assertThat(wait.count()).as("the wait that ended before the timer existed").isEqualTo(1);
        assertThat(wait.totalTime(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(90);

        // Gone idle in a pool: idle and in use follow the core.
        governor.idle(first, first, pooled -> { });
        assertThat(gauge(HostMeters.IDLE)).isEqualTo(1);
        assertThat(gauge(HostMeters.IN_USE)).isZero();
        governor.closed(first);
        assertThat(gauge(HostMeters.OPEN)).isZero();
        assertThat(gauge(HostMeters.IDLE)).isZero();

        // A wait that gets its slot is timed too, into the same timer.
        Object holder = new Object();
        governor.beforeConnect(holder, "registry.local", 5000, 0, true);
        CompletableFuture<Object> waiter = CompletableFuture.supplyAsync(
                () -> governor.beforeConnect(new Object(), "registry.local", 5000, 0, true));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (gauge(HostMeters.QUEUED) == 0 && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertThat(gauge(HostMeters.QUEUED)).as("the waiter is in line").isEqualTo(1);
        governor.closed(holder);
        assertThat(waiter.get(5, TimeUnit.SECONDS)).isSameAs(Governor.ACQUIRED);
        assertThat(wait.count()).isEqualTo(2);
        assertThat(counter(HostMeters.CONNECTS)).isEqualTo(3);
        assertThat(counter(HostMeters.TIMEOUTS)).isEqualTo(1);
        assertThat(gauge(HostMeters.QUEUED)).isZero();
    }

    @Test
    void aConnectionHandedToAWaitingRequestOfItsPoolIsCounted() throws Exception {
        Governor g = new Governor((h, p) -> 1, new LocalSlotStore(), 5_000, 10, listener);
        Object socket = new Object();
        Object pool = new Object();
        assertThat(g.beforeConnect(socket, "registry.local", 5000, 0, true)).isSameAs(Governor.ACQUIRED);
        binder.bindPending(registry);
        assertThat(counter(HostMeters.HANDED_OVER)).isZero();
        CompletableFuture<Object> waiter = CompletableFuture.supplyAsync(() -> {
            Object got = g.awaitConnection("registry.local", 5000, pool, 0);
            g.endAwait();
            return got;
        });
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (gauge(HostMeters.QUEUED) == 0 && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertThat(gauge(HostMeters.QUEUED)).as("the request waits for a connection of its pool").isEqualTo(1);
        Object client = new Object();
        g.idle(socket, socket, pooled -> { });
        assertThat(g.offerIdle(socket, pool, client)).isEqualTo(HostLine.Offer.HANDED_OVER);
        assertThat(waiter.get(5, TimeUnit.SECONDS)).isSameAs(client);
        assertThat(counter(HostMeters.HANDED_OVER)).isEqualTo(1);
        assertThat(counter(HostMeters.RECLAIMED)).isZero();
        assertThat(counter(HostMeters.CONNECTS)).as("reused, not a new connect").isEqualTo(1);
    }

    @Test
    void fleetCappedDestinationsAlsoGetFleetMeters() throws Exception {
        io.connguard.agent.core.fleet.FleetCoordinator fleet = new io.connguard.agent.core.fleet.FleetCoordinator(
                new io.connguard.agent.core.fleet.FleetBackend() {
                    @Override
                    public Sync sync(io.connguard.agent.core.HostKey host, int cap, int held, int pending, int extra) {
                        return new Sync(pending + extra, held + pending + extra, 0);
                    }

                    @Override
                    public String describe() {
                        return "test store";
                    }
                }, 2, 10_000, new io.connguard.agent.core.fleet.FleetCoordinator.Events() {
                }, r -> {
                    Thread t = new Thread(r);
                    t.setDaemon(true);
                    return t;
                });
        try {
            Governor g = new Governor((h, p) -> 0, new io.connguard.agent.core.fleet.FleetSlotStore(new LocalSlotStore(),
                    (h, p) -> h.equals("harbor") ? 8 : 0, fleet), 5_000, 10, listener);
            Object c = new Object();
            assertThat(g.beforeConnect(c, "harbor", 443, 0, true)).isNotInstanceOf(Exception.class);
            g.host("plain", 80);
            binder.bindPending(registry);
            assertThat(registry.get(HostMeters.FLEET_LIMIT).tag("host", "harbor").gauge().value()).isEqualTo(8);
            assertThat(registry.get(HostMeters.FLEET_PERMITS).tag("host", "harbor").gauge().value()).isGreaterThanOrEqualTo(1);
            assertThat(registry.get(HostMeters.FLEET_IN_USE).tag("host", "harbor").gauge().value()).isGreaterThanOrEqualTo(1);
            assertThat(registry.get(HostMeters.FLEET_FALLBACK).tag("host", "harbor").gauge().value()).isZero();
            assertThat(registry.get(HostMeters.FLEET_FALLBACKS).tag("host", "harbor").functionCounter().count()).isZero();
            assertThat(registry.get(HostMeters.FLEET_LATENCY).tag("host", "harbor").gauge().value()).isGreaterThan(0);
            assertThat(registry.find(HostMeters.FLEET_LIMIT).tag("host", "plain").gauge()).as("no fleet cap").isNull();
            g.closed(c);
        } finally {
            fleet.stop();
        }
    }

    @Test
    void retriesByOutcomeAndLeaksByDetectorAreSeparateSeries() {
        governor.host("registry.local", 443);
        binder.bindPending(registry);
        for (String outcome : new String[] {"retried", "exhausted", "budget_exceeded"}) {
            assertThat(registry.get(HostMeters.RETRIES).tag("outcome", outcome).functionCounter().count())
                    .as(outcome).isZero();
        }
        for (String detector : new String[] {"age", "garbage"}) {
            assertThat(registry.get(HostMeters.LEAKS).tag("detector", detector).functionCounter().count())
                    .as(detector).isZero();
        }
        assertThat(registry.find(HostMeters.RETRIES).functionCounters()).hasSize(3);
        assertThat(registry.find(HostMeters.LEAKS).functionCounters()).hasSize(2);
    }

    @Test
    void onlyTheFirstThousandHostsGetMeters() {
        for (int i = 0; i < HostMeterBinder.MAX_HOSTS + 5; i++) {
            governor.host("unlimited", 10_000 + i);
        }
        assertThat(binder.bindPending(registry)).isEqualTo(HostMeterBinder.MAX_HOSTS);
        assertThat(registry.find(HostMeters.OPEN).gauges()).hasSize(HostMeterBinder.MAX_HOSTS);
        // A wait to a host without meters is simply not timed.
        binder.queueWaitEnded(governor.host("unlimited", 10_000 + HostMeterBinder.MAX_HOSTS + 1), 1_000);
    }

    @Test
    void prometheusNamesFollowTheConventions() {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        governor.beforeConnect(new Object(), "registry.local", 5000, 0, true);
        governor.beforeConnect(new Object(), "registry.local", 5000, 0, true);
        binder.bindPending(prometheus);
        String text = prometheus.scrape();
        assertThat(text)
                .contains("connguard_connections_open{host=\"registry.local\",port=\"5000\"} 1")
                .contains("connguard_connections_in_use{host=\"registry.local\",port=\"5000\"} 1")
                .contains("connguard_connections_limit{host=\"registry.local\",port=\"5000\"} 1")
                .contains("connguard_queue_size{host=\"registry.local\",port=\"5000\"} 0")
                .contains("connguard_queue_timeouts_total{host=\"registry.local\",port=\"5000\"} 1")
                .contains("connguard_queue_wait_seconds_count{host=\"registry.local\",port=\"5000\"} 1")
                .contains("connguard_queue_wait_seconds{host=\"registry.local\",port=\"5000\",quantile=\"0.99\"}")
                .contains("connguard_retries_total{host=\"registry.local\",outcome=\"budget_exceeded\",port=\"5000\"} 0")
                .contains("connguard_leaks_total{detector=\"garbage\",host=\"registry.local\",port=\"5000\"} 0")
                .contains("connguard_connections_reclaimed_total{host=\"registry.local\",port=\"5000\"} 0")
                .contains("connguard_connections_handed_over_total{host=\"registry.local\",port=\"5000\"} 0");
    }

    private double gauge(String name) {
        Gauge g = registry.get(name).tag("host", "registry.local").tag("port", "5000").gauge();
        return g.value();
    }

    private double counter(String name) {
        FunctionCounter c = registry.get(name).tag("host", "registry.local").tag("port", "5000").functionCounter();
        return c.count();
    }

}

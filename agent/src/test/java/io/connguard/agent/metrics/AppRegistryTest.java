package io.connguard.agent.metrics;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.LocalSlotStore;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.instrument.ClassFileTransformer;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reflective bridge into an application's {@code Metrics.globalRegistry}, here the unshaded
 * Micrometer on the test class path standing in for the application's (the Spring Boot IT proves
 * it against a real application with the shaded agent).
 */
class AppRegistryTest {

    private final SimpleMeterRegistry app = new SimpleMeterRegistry();

    @AfterEach
    void detach() {
        Metrics.globalRegistry.remove(app);
        Metrics.globalRegistry.clear();
    }

    @Test
    void registersEveryMeterInTheGlobalRegistryIncludingRegistriesAddedLater() throws Exception {
        HostMeterBinder binder = new HostMeterBinder(() -> { });
        Governor governor = new Governor((h, p) -> 1, new LocalSlotStore(), 50, 10, listener(binder));
        Object lease = governor.beforeConnect(new Object(), "harbor.local", 443, 0, true);
        assertThat(lease).isNotNull();

        AppRegistry sink = AppRegistry.of(getClass().getClassLoader());
        assertThat(sink.registry()).isSameAs(Metrics.globalRegistry);
        assertThat(sink.inUse()).as("no registry in the composite yet").isFalse();
        binder.addSink(sink);
        assertThat(binder.bindPending()).isEqualTo(1);
        // Spring Boot adds its registries to the global composite after libraries registered meters.
        Metrics.globalRegistry.add(app);

        assertThat(app.get(HostMeters.OPEN).tag("host", "harbor.local").tag("port", "443").gauge().value()).isEqualTo(1);
        assertThat(app.get(HostMeters.LIMIT).gauge().value()).isEqualTo(1);
        assertThat(app.get(HostMeters.CONNECTS).functionCounter().count()).isEqualTo(1);
        assertThat(app.find(HostMeters.RETRIES).functionCounters()).hasSize(3);
        assertThat(app.get(HostMeters.LEAKS).tag("detector", "garbage").functionCounter().count()).isZero();

        // A connect over the limit times out after waiting: the wait lands in the application's timer.
        try {
            governor.beforeConnect(new Object(), "harbor.local", 443, 0, true);
        } catch (RuntimeException expected) {
            // ConnectionLimitException
        }
        Timer wait = app.get(HostMeters.WAIT).tag("host", "harbor.local").timer();
        assertThat(wait.count()).isEqualTo(1);
        assertThat(wait.totalTime(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(40);
        assertThat(wait.takeSnapshot().percentileValues()).hasSize(3);
        assertThat(app.get(HostMeters.TIMEOUTS).functionCounter().count()).isEqualTo(1);
    }

    @Test
    void theHubFindsTheApplicationsMicrometerWhenItsMetricsClassLoadsAndBindsOnceARegistryJoins() throws Exception {
        MetricsHub hub = new MetricsHub("127.0.0.1", 0, true);
        Governor governor = new Governor((h, p) -> 0, new LocalSlotStore(), 50, 10, listener(hub.binder()));
        governor.beforeConnect(new Object(), "late.local", 80, 0, true);
        ClassFileTransformer observer = hub.observer();
        assertThat(observer.transform(getClass().getClassLoader(), AppRegistry.METRICS_INTERNAL_NAME, null, null,
                new byte[0])).as("the observer changes nothing").isNull();
        hub.ready(null);
        Thread.sleep(1500);
        assertThat(Metrics.globalRegistry.getMeters()).as("nothing registered while the composite is empty").isEmpty();
        Metrics.globalRegistry.add(app);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (app.find(HostMeters.OPEN).gauge() == null && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertThat(app.get(HostMeters.OPEN).tag("host", "late.local").gauge().value()).isEqualTo(1);
        assertThat(new MetricsHub("127.0.0.1", 0, false).observer()).as("CONNGUARD_METRICS_BRIDGE=false").isNull();
    }

    private static Governor.Listener listener(HostMeterBinder binder) {
        return new Governor.Listener() {
            @Override
            public void hostAdded(HostState host) {
                binder.hostAdded(host);
            }

            @Override
            public void queueWaitEnded(HostState host, long waitedNanos, boolean acquired) {
                binder.queueWaitEnded(host, waitedNanos);
            }
        };
    }
}

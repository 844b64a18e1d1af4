package io.connguard.agent.core.fleet;

import io.connguard.ConnectionLimitException;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostKey;
import io.connguard.agent.core.LocalSlotStore;
import io.connguard.agent.text.Sentences;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fleet caps in one process: several Governors, each with its own {@link FleetCoordinator} (a
 * "JVM"), share an {@link InMemoryFleet} with the store's rules. The real store (Redis) and real
 * JVMs are in FleetIT.
 */
class FleetCoordinatorTest {

    private final List<FleetCoordinator> coordinators = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
        coordinators.forEach(FleetCoordinator::stop);
    }

    private Governor jvm(InMemoryFleet fleet, String id, int cap, int fallback, long queueTimeoutMillis) {
        FleetCoordinator c = new FleetCoordinator(fleet.jvm(id), fallback, 600, new FleetCoordinator.Events() {
        }, r -> {
            Thread t = new Thread(r, "fleet-" + id);
            t.setDaemon(true);
            return t;
        });
        coordinators.add(c);
        return new Governor((h, p) -> 0, new FleetSlotStore(new LocalSlotStore(), (h, p) -> cap, c),
                queueTimeoutMillis, 1000, new Governor.Listener() {
                }, Sentences::refusal);
    }

    /** Opens a connection (an Object) to harbor:443, or returns the exception the connect would throw. */
    private static Object open(Governor g) {
        Object conn = new Object();
        Object r = g.beforeConnect(conn, "harbor", 443, 0, true);
        return r instanceof IOException ? r : conn;
    }

    @Test
    void theCapHoldsAcrossJvmsAndNobodyFails() throws Exception {
        InMemoryFleet fleet = new InMemoryFleet(2000);
        AtomicInteger open = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        List<Future<?>> work = new ArrayList<>();
        for (int j = 0; j < 3; j++) {
            Governor g = jvm(fleet, "jvm" + j, 8, 2, 20_000);
            for (int t = 0; t < 8; t++) {
                work.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        Object c = open(g);
                        if (c instanceof IOException) {
                            failed.incrementAndGet();
                            continue;
                        }
                        peak.accumulateAndGet(open.incrementAndGet(), Math::max);
                        sleep(2);
                        open.decrementAndGet();
                        g.closed(c);
                    }
                    return null;
                }));
            }
        }
        for (Future<?> f : work) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertThat(failed.get()).isZero();
        assertThat(peak.get()).as("connections open at once across the fleet").isLessThanOrEqualTo(8).isGreaterThan(4);
        assertThat(fleet.inUse(new HostKey("harbor", 443))).as("permits held after the work").isLessThanOrEqualTo(8);
    }

    @Test
    void farFromTheCapMostConnectsNeverReachTheStore() throws Exception {
        InMemoryFleet fleet = new InMemoryFleet(5000);
        Governor g = jvm(fleet, "solo", 160, 2, 5_000);
        for (int i = 0; i < 2000; i++) {
            Object c = open(g);
            assertThat(c).isNotInstanceOf(IOException.class);
            g.closed(c);
        }
        assertThat(coordinators.get(0).syncCount()).as("exchanges with the store for 2000 connects").isLessThan(50);
    }

    @Test
    void whenTheStoreIsDownConnectsGoOnAtTheFallbackCapAndComeBackToTheFleet() throws Exception {
        InMemoryFleet fleet = new InMemoryFleet(3000);
        Governor g = jvm(fleet, "a", 4, 3, 1_500);
        Object c1 = open(g);
        Object c2 = open(g);
        assertThat(fleet.inUse(new HostKey("harbor", 443))).isGreaterThanOrEqualTo(2);
        fleet.down = true;
        FleetHost f = g.host("harbor", 443).fleet();
        // Spare permits may be left from the fleet; use them up, then a connect must wait and finds the store gone.
        List<Object> more = new ArrayList<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (f.fleetMode() && System.nanoTime() < end) {
            more.add(open(g));
        }
        assertThat(f.fleetMode()).as("fallen back").isFalse();
        assertThat(coordinators.get(0).down()).isTrue();
        int open = 2 + (int) more.stream().filter(o -> !(o instanceof IOException)).count();
        assertThat(f.inUse()).isEqualTo(open);
        // The fallback cap is 3: with 3 or more open, the next connect times out, naming the fallback.
        for (Object o : more) {
            if (!(o instanceof IOException)) {
                g.closed(o);
            }
        }
        Object c3 = open(g);
        assertThat(c3).isNotInstanceOf(IOException.class);
        Object c4 = open(g);
        assertThat(c4).isInstanceOf(ConnectionLimitException.class);
        assertThat(((Exception) c4).getMessage()).contains("CONNGUARD_FLEET_FALLBACK_LIMIT").contains("fallback limit of 3");
        // The store comes back: the open connections' permits are claimed again, the fleet cap rules.
        fleet.down = false;
        end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!f.fleetMode() && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertThat(f.fleetMode()).isTrue();
        assertThat(fleet.inUse(new HostKey("harbor", 443))).as("re-claimed").isGreaterThanOrEqualTo(3);
        Object c5 = open(g);
        assertThat(c5).as("the fourth of a fleet cap of 4").isNotInstanceOf(IOException.class);
        Object c6 = open(g);
        assertThat(c6).as("over the fleet cap").isInstanceOf(ConnectionLimitException.class);
        assertThat(((Exception) c6).getMessage()).contains("fleet-wide limit is 4").contains("CONNGUARD_FLEET_LIMITS");
        for (Object c : new Object[] {c1, c2, c3, c5}) {
            g.closed(c);
        }
    }

    @Test
    void connectsThatMayNotWaitGetSparePermitsOnceOneMissed() throws Exception {
        InMemoryFleet fleet = new InMemoryFleet(3000);
        Governor g = jvm(fleet, "loop", 4, 2, 5_000);
        Object first = new Object();
        // No spare permit yet: ungoverned (or, if the coordinator was quick, a permit just fetched).
        Object firstResult = g.beforeConnect(first, "harbor", 443, 0, false);
        assertThat(firstResult).isIn(null, Governor.ACQUIRED);
        Object r = null;
        Object conn = null;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (r != Governor.ACQUIRED && System.nanoTime() < end) {
            Thread.sleep(20);
            conn = new Object();
            r = g.beforeConnect(conn, "harbor", 443, 0, false);
        }
        assertThat(r).as("a later non-blocking connect takes a spare permit").isSameAs(Governor.ACQUIRED);
        assertThat(fleet.inUse(new HostKey("harbor", 443))).isBetween(1, 4);
        g.closed(conn);
        g.closed(first);
    }

    @Test
    void aHostWhoseKeysTheStoreRefusesFallsBackAloneAndTheRestStayInTheFleet() throws Exception {
        InMemoryFleet fleet = new InMemoryFleet(3000);
        fleet.refused.add("forbidden");
        FleetCoordinator c = new FleetCoordinator(fleet.jvm("a"), 1, 3000, new FleetCoordinator.Events() {
        }, r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        coordinators.add(c);
        Governor g = new Governor((h, p) -> 0, new FleetSlotStore(new LocalSlotStore(), (h, p) -> 3, c),
                2_000, 1000, new Governor.Listener() {
                }, Sentences::refusal);
        Object ok = new Object();
        assertThat(g.beforeConnect(ok, "harbor", 443, 0, true)).isNotInstanceOf(IOException.class);
        Object refusedConn = new Object();
        assertThat(g.beforeConnect(refusedConn, "forbidden", 443, 0, true)).as("at the fallback cap of 1")
                .isNotInstanceOf(IOException.class);
        assertThat(g.host("forbidden", 443).fleet().fleetMode()).isFalse();
        assertThat(g.host("harbor", 443).fleet().fleetMode()).isTrue();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!c.down() && System.nanoTime() < end) {
            Thread.sleep(5);
        }
        assertThat(c.down()).as("some destination is in fallback").isTrue();
        fleet.refused.clear();
        end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!g.host("forbidden", 443).fleet().fleetMode() && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertThat(g.host("forbidden", 443).fleet().fleetMode()).isTrue();
        assertThat(fleet.inUse(new HostKey("forbidden", 443))).as("the open connection re-claimed").isEqualTo(1);
        g.closed(ok);
        g.closed(refusedConn);
    }

    @Test
    void aHostSeenAfterStopGoesOnAtTheFallbackCap() {
        InMemoryFleet fleet = new InMemoryFleet(3000);
        Governor g = jvm(fleet, "a", 3, 2, 60_000);
        coordinators.get(0).stop();
        Object c = open(g);
        assertThat(c).isNotInstanceOf(IOException.class);
        assertThat(g.host("harbor", 443).fleet().fleetMode()).isFalse();
        g.closed(c);
    }

    @Test
    void aFallbackLimitOfZeroMeansNoCapWhileTheStoreIsDown() {
        InMemoryFleet fleet = new InMemoryFleet(3000);
        fleet.down = true;
        Governor g = jvm(fleet, "a", 2, 0, 5_000);
        List<Object> open = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Object c = open(g);
            assertThat(c).as("connect %d", i).isNotInstanceOf(IOException.class);
            open.add(c);
        }
        assertThat(g.host("harbor", 443).fleet().fleetMode()).isFalse();
        assertThat(g.host("harbor", 443).fleet().allowance()).as("0 = no cap").isZero();
        open.forEach(g::closed);
    }

    @Test
    void aStoreThatComesBackEmptyGrantsNothingBeyondWhatTheFallenBackJvmsStillHold() throws Exception {
        InMemoryFleet fleet = new InMemoryFleet(10_000);
        fleet.down = true;
        List<Governor> jvms = new ArrayList<>();
        for (String id : new String[] {"a", "b", "c"}) {
            Governor g = jvm(fleet, id, 4, 2, 3_000);
            jvms.add(g);
            assertThat(open(g)).isNotInstanceOf(IOException.class);
            assertThat(open(g)).isNotInstanceOf(IOException.class);
        }
        // 6 open at the fallback cap (2 per JVM) against a fleet cap of 4; the store returns with nothing.
        // "a" reaches it first; the others' probes (once a second) only get through a little later.
        fleet.wipe();
        fleet.cut.add("b");
        fleet.cut.add("c");
        fleet.down = false;
        long start = System.nanoTime();
        pool.submit(() -> {
            sleep(1_200); // past their first probe after the store came back, before their second
            fleet.cut.clear();
        });
        Object extra = open(jvms.get(0));
        assertThat(extra).as("no permit while the fleet is over its cap").isInstanceOf(ConnectionLimitException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(2_900);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (fleet.inUse(new HostKey("harbor", 443)) < 6 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertThat(fleet.inUse(new HostKey("harbor", 443))).as("every JVM re-claimed its open connections").isEqualTo(6);
        for (Governor g : jvms) {
            FleetHost f = g.host("harbor", 443).fleet();
            while (!f.fleetMode() && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            assertThat(f.fleetMode()).isTrue();
        }
    }

    @Test
    void aDeadJvmsPermitsComeBackWithinTheLease() throws Exception {
        InMemoryFleet fleet = new InMemoryFleet(600);
        Governor a = jvm(fleet, "a", 2, 2, 5_000);
        Governor b = jvm(fleet, "b", 2, 2, 5_000);
        open(a);
        open(a); // held forever: "a" is about to die
        fleet.cut.add("a");
        long start = System.nanoTime();
        Object c = open(b);
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(c).isNotInstanceOf(IOException.class);
        assertThat(waitedMillis).as("within the lease (600 ms) and a few exchanges").isLessThan(2_500);
    }

    @Test
    void aJvmWithOneThreadIsNotStarvedByAJvmWithMany() throws Exception {
        InMemoryFleet fleet = new InMemoryFleet(2000);
        Governor busy = jvm(fleet, "busy", 2, 2, 30_000);
        Governor quiet = jvm(fleet, "quiet", 2, 2, 30_000);
        AtomicInteger busyDone = new AtomicInteger();
        for (int t = 0; t < 12; t++) {
            pool.submit(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    Object c = open(busy);
                    if (!(c instanceof IOException)) {
                        sleep(5);
                        busy.closed(c);
                        busyDone.incrementAndGet();
                    }
                }
            });
        }
        Thread.sleep(300);
        long worst = 0;
        for (int i = 0; i < 10; i++) {
            long start = System.nanoTime();
            Object c = open(quiet);
            worst = Math.max(worst, System.nanoTime() - start);
            assertThat(c).isNotInstanceOf(IOException.class);
            sleep(5);
            quiet.closed(c);
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(worst)).as("the quiet JVM's longest wait").isLessThan(1_000);
        assertThat(busyDone.get()).as("the busy JVM kept going").isGreaterThan(10);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

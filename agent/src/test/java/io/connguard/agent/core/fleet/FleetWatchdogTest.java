package io.connguard.agent.core.fleet;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostKey;
import io.connguard.agent.core.LocalSlotStore;
import io.connguard.agent.text.Sentences;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A store that takes a call and never answers it (a Redis that accepts and stays silent, a name
 * lookup that hangs): the coordinator falls back within its call bound without waiting for the
 * call, keeps one thread parked in it however many probes follow, and is back in fleet mode soon
 * after the call answers.
 */
class FleetWatchdogTest {

    static final long BOUND_MILLIS = 500;

    private final List<FleetCoordinator> coordinators = new CopyOnWriteArrayList<>();
    private final CountDownLatch answer = new CountDownLatch(1);

    @AfterEach
    void stop() {
        answer.countDown();
        coordinators.forEach(FleetCoordinator::stop);
    }

    /** The in-memory store, except that while {@code hang} is set a call waits for {@link #answer}. */
    private final class HangingStore implements FleetBackend {
        final FleetBackend store = new InMemoryFleet(3_000).jvm("a");
        final AtomicInteger calls = new AtomicInteger();
        volatile boolean hang = true;

        @Override
        public Sync sync(HostKey host, int cap, int held, int pending, int extra) throws Exception {
            calls.incrementAndGet();
            if (hang) {
                answer.await(60, TimeUnit.SECONDS); // "forever" for this test
            }
            return store.sync(host, cap, held, pending, extra);
        }

        @Override
        public String describe() {
            return "hanging store";
        }
    }

    @Test
    void aStoreThatNeverAnswersFallsBackWithinTheBoundWithOneThreadAndRecoversWhenItAnswers() throws Exception {
        HangingStore store = new HangingStore();
        AtomicInteger callThreads = new AtomicInteger();
        AtomicReference<Throwable> fallbackCause = new AtomicReference<>();
        AtomicInteger recovered = new AtomicInteger();
        FleetCoordinator c = new FleetCoordinator(store, 2, 3_000, new FleetCoordinator.Events() {
            @Override
            public void fallback(FleetBackend backend, Throwable cause, int fallbackLimit) {
                fallbackCause.set(cause);
            }

            @Override
            public void recovered(FleetBackend backend) {
                recovered.incrementAndGet();
            }
        }, r -> daemon(r, "test-fleet"), r -> {
            callThreads.incrementAndGet();
            return daemon(r, "test-fleet-call");
        }, BOUND_MILLIS);
        coordinators.add(c);
        // A queue timeout far beyond the bound: a coordinator that waited for the store fails this.
        Governor g = new Governor((h, p) -> 0, new FleetSlotStore(new LocalSlotStore(), (h, p) -> 8, c),
                30_000, 1000, new Governor.Listener() {
                }, Sentences::refusal);

        long t0 = System.nanoTime();
        Object first = new Object();
        assertThat(g.beforeConnect(first, "harbor", 443, 0, true)).as("the first connect, store stuck")
                .isNotInstanceOf(IOException.class);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(tookMillis).as("time to the first connect with the store stuck (bound %s ms)", BOUND_MILLIS)
                .isLessThan(BOUND_MILLIS + 1_000);
        assertThat(c.down()).isTrue();
        assertThat(fallbackCause.get()).hasMessageContaining("no answer within " + BOUND_MILLIS + " ms");
        FleetHost host = g.host("harbor", 443).fleet();
        assertThat(host.fleetMode()).isFalse();
        // The fallback cap holds: 2 open, none free.
        Object second = new Object();
        assertThat(g.beforeConnect(second, "harbor", 443, 0, true)).isNotInstanceOf(IOException.class);
        assertThat(host.available()).isZero();

        // Probes every second while stuck: each fails at once, no new call, no new thread.
        Thread.sleep(3_500);
        assertThat(c.down()).isTrue();
        assertThat(store.calls.get()).as("calls made while the first one hangs").isEqualTo(1);
        assertThat(callThreads.get()).as("call threads started").isEqualTo(1);
        assertThat(liveThreads("test-fleet-call")).isEqualTo(1);

        // It answers: the next probe goes through; after the rejoin window the host is back.
        store.hang = false;
        answer.countDown();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
        while ((c.down() || !host.fleetMode()) && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertThat(host.fleetMode()).as("back in fleet mode").isTrue();
        assertThat(c.down()).isFalse();
        assertThat(recovered.get()).isEqualTo(1);
        assertThat(store.calls.get()).isGreaterThan(1);
        assertThat(callThreads.get()).as("call threads started, the stuck one reused").isEqualTo(1);
        g.closed(first);
        g.closed(second);
    }

    @Test
    void aCallThatFailsIsReportedAsItsOwnFailure() throws Exception {
        FleetWatchdog w = new FleetWatchdog(new FleetBackend() {
            @Override
            public Sync sync(HostKey host, int cap, int held, int pending, int extra) throws Exception {
                throw new FleetBackend.Refused("NOPERM");
            }

            @Override
            public String describe() {
                return "refusing store";
            }
        }, BOUND_MILLIS, r -> daemon(r, "test-watchdog"));
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> w.sync(new HostKey("h", 1), 1, 0, 0, 0))
                    .isInstanceOf(FleetBackend.Refused.class).hasMessage("NOPERM");
            assertThat(w.stuck()).isFalse();
        } finally {
            w.shutdown();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static long liveThreads(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name) && t.isAlive()).count();
    }
}

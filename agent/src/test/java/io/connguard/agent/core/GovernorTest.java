package io.connguard.agent.core;

import io.connguard.ConnectionLimitException;
import io.connguard.agent.text.Sentences;
import org.junit.jupiter.api.Test;

import java.io.Closeable;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The pure core, without an agent: connections here are plain objects standing for sockets. */
class GovernorTest {

    private final CopyOnWriteArrayList<String> events = new CopyOnWriteArrayList<>();
    private final Governor.Listener listener = new Governor.Listener() {
        @Override
        public void leaked(HostState host, Lease lease, long ageMillis) {
            events.add("leak " + host.key());
        }

        @Override
        public void queueTimedOut(HostState host, Refusal refusal) {
            events.add("timeout " + host.key());
        }

        @Override
        public void queueWaitEnded(HostState host, long waitedNanos, boolean acquired) {
            events.add("waited " + host.key() + (acquired ? " acquired" : " timed-out")
                    + (waitedNanos >= 100_000_000L ? " >=100ms" : ""));
        }
    };

    private static final Governor.PooledCloser CLOSE = pooled -> ((FakeConnection) pooled).close();

    private Governor governor(int limit, long queueTimeoutMillis, int queueMax) {
        return new Governor((h, p) -> limit, new LocalSlotStore(), queueTimeoutMillis, queueMax, listener,
                Sentences::refusal);
    }

    @Test
    void takesSlotsUpToTheLimitAndCountsOnce() {
        Governor g = governor(2, 100, 10);
        Object a = new Object();
        Object b = new Object();
        assertThat(g.beforeConnect(a, "Registry.Local", 5000, 0, true)).isSameAs(Governor.ACQUIRED);
        assertThat(g.beforeConnect(a, "registry.local", 5000, 0, true)).as("same object counts once").isNull();
        assertThat(g.beforeConnect(b, "registry.local", 5000, 0, true)).isSameAs(Governor.ACQUIRED);
        HostState h = g.host("registry.local", 5000);
        assertThat(h.open()).isEqualTo(2);
        assertThat(h.connects()).isEqualTo(2);
        assertThat(h.peakOpen()).isEqualTo(2);
    }

    @Test
    void overTheLimitWaitsThenFailsWithAClearException() {
        Governor g = governor(1, 150, 10);
        g.beforeConnect(new Object(), "h", 80, 0, true);
        long start = System.nanoTime();
        Object result = g.beforeConnect(new Object(), "h", 80, 0, true);
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(result).isInstanceOf(ConnectionLimitException.class);
        ConnectionLimitException e = (ConnectionLimitException) result;
        assertThat(e.getMessage()).contains("h:80").contains("limit is 1").contains("CONNGUARD_HOST_LIMITS")
                .contains("CONNGUARD_QUEUE_TIMEOUT");
        assertThat(e.getLimit()).isEqualTo(1);
        assertThat(waited).isGreaterThanOrEqualTo(140);
        assertThat(g.host("h", 80).queueTimeouts()).isEqualTo(1);
        assertThat(events).containsExactly("timeout h:80", "waited h:80 timed-out >=100ms");
    }

    @Test
    void theCallersConnectTimeoutBoundsTheWait() {
        Governor g = governor(1, 60_000, 10);
        g.beforeConnect(new Object(), "h", 80, 0, true);
        Object result = g.beforeConnect(new Object(), "h", 80, 100, true);
        assertThat(result).isInstanceOf(ConnectionLimitException.class);
        assertThat(((Exception) result).getMessage()).contains("caller's connect timeout of 100 ms");
    }

    @Test
    void aWaiterGetsTheSlotWhenOneClosesAndTheRestOfItsTimeout() throws Exception {
        Governor g = governor(1, 5_000, 10);
        Object first = new Object();
        g.beforeConnect(first, "h", 80, 0, true);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Object> waiter = pool.submit(() -> g.beforeConnect(new Object(), "h", 80, 3_000, true));
            awaitQueued(g.host("h", 80), 1);
            g.closed(first);
            Object result = waiter.get(5, TimeUnit.SECONDS);
            assertThat(result).isInstanceOf(Integer.class);
            assertThat((Integer) result).isBetween(1, 3_000);
            assertThat(g.host("h", 80).waits()).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void waitersAreAdmittedInArrivalOrder() throws Exception {
        Governor g = governor(1, 10_000, 100);
        Object holder = new Object();
        g.beforeConnect(holder, "h", 80, 0, true);
        HostState h = g.host("h", 80);
        List<Integer> order = new CopyOnWriteArrayList<>();
        List<Object> conns = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try {
            for (int i = 0; i < 5; i++) {
                int n = i;
                pool.submit(() -> {
                    Object c = new Object();
                    g.beforeConnect(c, "h", 80, 0, true);
                    order.add(n);
                    conns.add(c);
                    return null;
                });
                awaitQueued(h, i + 1);
            }
            g.closed(holder);
            for (int i = 0; i < 5; i++) {
                awaitSize(conns, i + 1);
                g.closed(conns.get(i));
            }
            assertThat(order).containsExactly(0, 1, 2, 3, 4);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFullQueueRefusesAtOnce() throws Exception {
        Governor g = governor(1, 10_000, 1);
        g.beforeConnect(new Object(), "h", 80, 0, true);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            pool.submit(() -> g.beforeConnect(new Object(), "h", 80, 0, true));
            awaitQueued(g.host("h", 80), 1);
            Object result = g.beforeConnect(new Object(), "h", 80, 0, true);
            assertThat(result).isInstanceOf(ConnectionLimitException.class);
            assertThat(((Exception) result).getMessage()).contains("CONNGUARD_QUEUE_MAX");
            assertThat(g.host("h", 80).queueFull()).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void releaseHappensExactlyOnceWhateverHappens() throws Exception {
        Governor g = governor(3, 100, 10);
        Object a = new Object();
        g.beforeConnect(a, "h", 80, 0, true);
        HostState h = g.host("h", 80);
        g.connectFailed(a);
        g.closed(a);
        g.closed(a);
        assertThat(h.open()).isZero();
        // Close from many threads at once.
        Object b = new Object();
        g.beforeConnect(b, "h", 80, 0, true);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        for (int i = 0; i < 8; i++) {
            pool.submit(() -> {
                go.await();
                g.closed(b);
                return null;
            });
        }
        go.countDown();
        pool.shutdown();
        assertThat(pool.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        assertThat(h.open()).isZero();
        assertThat(h.slots.available()).as("no slot was given back twice").isEqualTo(3);
        g.closed(new Object()); // never tracked: nothing happens
        assertThat(h.slots.available()).isEqualTo(3);
    }

    @Test
    void aWaitingConnectReclaimsTheOldestIdlePooledConnection() {
        Governor g = governor(2, 1_000, 10);
        FakeConnection older = new FakeConnection(g);
        FakeConnection newer = new FakeConnection(g);
        g.beforeConnect(older, "h", 80, 0, true);
        g.beforeConnect(newer, "h", 80, 0, true);
        g.idle(older, older, CLOSE);
        g.idle(newer, newer, CLOSE);
        HostState h = g.host("h", 80);
        assertThat(h.idle()).isEqualTo(2);
        assertThat(h.inUse()).isZero();

        Object fresh = new Object();
        assertThat(g.beforeConnect(fresh, "h", 80, 0, true)).isSameAs(Governor.ACQUIRED);
        assertThat(older.closes.get()).as("least recently used idle one closed").isEqualTo(1);
        assertThat(newer.closes.get()).isZero();
        assertThat(h.reclaimed()).isEqualTo(1);
        assertThat(h.open()).isEqualTo(2);
        assertThat(g.taken(older, true)).as("a reclaimed connection is never handed out").isFalse();
        assertThat(g.taken(newer, false)).isTrue();
        assertThat(h.idle()).isZero();
    }

    @Test
    void aConnectionTakenOutBeforeItIsMarkedIdleIsNotMarkedIdle() {
        Governor g = governor(1, 100, 10);
        FakeConnection c = new FakeConnection(g);
        g.beforeConnect(c, "h", 80, 0, true);
        Lease lease = g.idle(c, c, CLOSE);
        assertThat(g.taken(c, false)).isTrue();
        assertThat(g.idle(new Object(), null, null)).as("untracked").isNull();
        assertThat(lease.stateName()).isEqualTo("in-use");
        assertThat(g.reclaimIdle(g.host("h", 80))).isFalse();
        assertThat(c.closes.get()).isZero();
    }

    @Test
    void aThreadInterruptedBeforeItWaitsStillConnectsAndKeepsItsFlag() {
        Governor g = governor(1, 1_000, 10);
        FakeConnection pooled = new FakeConnection(g);
        g.beforeConnect(pooled, "h", 80, 0, true);
        g.returned(g.idle(pooled, pooled, CLOSE));
        Thread.currentThread().interrupt();
        Object result = g.beforeConnect(new Object(), "h", 80, 0, true);
        assertThat(Thread.interrupted()).as("interrupt flag kept").isTrue();
        assertThat(result).isSameAs(Governor.ACQUIRED);
        assertThat(pooled.closes.get()).isEqualTo(1);
    }

    @Test
    void aNonBlockingConnectNeverWaitsByDefault() {
        Governor g = governor(1, 10_000, 10);
        g.beforeConnect(new Object(), "h", 80, 0, true);
        long start = System.nanoTime();
        assertThat(g.beforeConnect(new Object(), "h", 80, 0, false)).as("took nothing: ungoverned").isNull();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_000);
        assertThat(g.host("h", 80).waits()).isZero();
    }

    @Test
    void aConnectionInUseIsNeverReclaimed() {
        Governor g = governor(1, 100, 10);
        FakeConnection busy = new FakeConnection(g);
        g.beforeConnect(busy, "h", 80, 0, true);
        g.idle(busy, busy, CLOSE);
        assertThat(g.taken(busy, false)).isTrue(); // handed out again: in use
        Object result = g.beforeConnect(new Object(), "h", 80, 0, true);
        assertThat(result).isInstanceOf(ConnectionLimitException.class);
        assertThat(busy.closes.get()).isZero();
    }

    @Test
    void goingIdleWhileConnectsWaitHandsTheSlotOver() throws Exception {
        Governor g = governor(1, 5_000, 10);
        FakeConnection pooled = new FakeConnection(g);
        g.beforeConnect(pooled, "h", 80, 0, true);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Object> waiter = pool.submit(() -> g.beforeConnect(new Object(), "h", 80, 0, true));
            awaitQueued(g.host("h", 80), 1);
            g.returned(g.idle(pooled, pooled, CLOSE)); // the pool takes it back while a connect waits
            assertThat(waiter.get(2, TimeUnit.SECONDS)).isSameAs(Governor.ACQUIRED);
            assertThat(pooled.closes.get()).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void raisingTheLimitAdmitsWaitersAtOnce() throws Exception {
        Governor g = governor(1, 10_000, 10);
        g.beforeConnect(new Object(), "h", 80, 0, true);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Object> waiter = pool.submit(() -> g.beforeConnect(new Object(), "h", 80, 0, true));
            awaitQueued(g.host("h", 80), 1);
            g.setLimit("h", 80, 2);
            assertThat(waiter.get(2, TimeUnit.SECONDS)).isSameAs(Governor.ACQUIRED);
            HostState h = g.host("h", 80);
            assertThat(h.limit()).isEqualTo(2);
            assertThat(h.limitOverridden()).isTrue();
            g.setLimit("h", 80, 0);
            assertThat(g.beforeConnect(new Object(), "h", 80, 0, true)).as("0 means no limit").isSameAs(Governor.ACQUIRED);
            g.setLimit("h", 80, 1);
            assertThat(g.beforeConnect(new Object(), "h", 80, 50, true)).isInstanceOf(ConnectionLimitException.class);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anEventLoopConnectNeverWaits() {
        Governor g = governor(1, 10_000, 10);
        g.beforeConnect(new Object(), "h", 80, 0, true);
        long start = System.nanoTime();
        assertThat(g.beforeConnect(new Object(), "h", 80, 0, false)).as("took nothing: ungoverned").isNull();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_000);
        assertThat(g.host("h", 80).ungoverned()).isEqualTo(1);
    }

    @Test
    void aConnectionDroppedWithoutCloseIsReleasedAndReported() throws Exception {
        Governor g = governor(1, 100, 10);
        g.beforeConnect(new Object(), "h", 80, 0, true); // dropped at once
        HostState h = g.host("h", 80);
        int released = 0;
        for (int i = 0; i < 50 && released == 0; i++) {
            System.gc();
            released = g.releaseCollected(100);
        }
        assertThat(released).isEqualTo(1);
        assertThat(h.leaks()).isEqualTo(1);
        assertThat(h.garbageLeaks()).as("counted by the garbage detector").isEqualTo(1);
        assertThat(h.ageLeaks()).isZero();
        assertThat(h.open()).isZero();
        assertThat(events).contains("leak h:80");
        assertThat(g.beforeConnect(new Object(), "h", 80, 0, true)).isSameAs(Governor.ACQUIRED);
    }

    @Test
    void noLimitMeansNoWaitButStillCounts() {
        Governor g = governor(0, 100, 10);
        for (int i = 0; i < 100; i++) {
            assertThat(g.beforeConnect(new Object(), "h", 80, 0, true)).isSameAs(Governor.ACQUIRED);
        }
        assertThat(g.host("h", 80).connects()).isEqualTo(100);
    }

    private static void awaitQueued(HostState h, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (h.queued() < n) {
            assertThat(System.nanoTime()).as("waiting for %s queued", n).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    private static void awaitSize(List<?> list, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (list.size() < n) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    /** Stands for a pooled socket: closing it reports the close, as the close hook would. */
    private static final class FakeConnection implements Closeable {
        final AtomicInteger closes = new AtomicInteger();
        private final Governor governor;

        FakeConnection(Governor governor) {
            this.governor = governor;
        }

        @Override
        public void close() {
            closes.incrementAndGet();
            governor.closed(this);
        }
    }
}

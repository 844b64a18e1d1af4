package io.connguard.agent.core;

import org.junit.jupiter.api.Test;

import java.io.Closeable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The leak detectors of the pure core, without an agent: plain objects stand for sockets, pool
 * entries and responses; the "pool" is the test.
 */
class LeakDetectorsTest {

    private static final long THRESHOLD_MS = 1_000;

    private final CopyOnWriteArrayList<String> events = new CopyOnWriteArrayList<>();
    private final Governor.Listener listener = new Governor.Listener() {
        @Override
        public void leaked(HostState host, Lease lease, long ageMillis) {
            events.add("garbage-connection " + host.key() + (lease.borrow() != null ? " borrowed" : ""));
        }

        @Override
        public void leakSuspected(HostState host, Borrow borrow, long heldMillis, long idleMillis) {
            events.add("age " + host.key() + " " + borrow.client() + (borrow.stack() != null ? " with-stack" : ""));
        }

        @Override
        public void leakReturned(HostState host, Borrow borrow, long heldMillis) {
            events.add("returned " + host.key());
        }

        @Override
        public void handleLeaked(HostState host, Borrow borrow, long heldMillis, boolean retired) {
            events.add("garbage-handle " + (host == null ? "?" : host.key()) + (retired ? " retired" : ""));
        }
    };

    /** Entry → its socket; retiring closes the socket (through the governor, as the close hook would). */
    private Governor governor;
    private final AtomicInteger retired = new AtomicInteger();
    private final PoolKind kind = new PoolKind("Test Client", (key, pooled) -> ((Entry) (key != null ? key : pooled)).socket,
            (key, pooled) -> {
                retired.incrementAndGet();
                governor.closed(((Entry) pooled).socket);
            });

    private static final class Entry {
        final Object socket = new Object();
    }

    private Governor governor(StackMode mode, long thresholdMillis, int limit) {
        governor = new Governor((h, p) -> limit, new LocalSlotStore(), 200, 10, listener,
                (connection, blocking) -> blocking, mode, thresholdMillis, Refusal::toString);
        return governor;
    }

    private static void sleep(long ms) throws InterruptedException {
        Thread.sleep(ms);
    }

    @Test
    void aBorrowHeldAndIdlePastTheThresholdIsReportedOnceAndItsReturnToo() throws Exception {
        Governor g = governor(StackMode.ALL, THRESHOLD_MS, 2);
        Entry e = new Entry();
        g.beforeConnect(e.socket, "registry", 443, 0, true);
        g.borrowed(kind, e, e, e.socket, null, null, true);
        assertThat(g.scanForLeaks()).as("too young").isZero();
        sleep(THRESHOLD_MS + 100);
        assertThat(g.scanForLeaks()).isEqualTo(1);
        assertThat(g.scanForLeaks()).as("reported once").isZero();
        HostState h = g.host("registry", 443);
        assertThat(h.leaks()).isEqualTo(1);
        assertThat(h.ageLeaks()).as("counted by the age detector").isEqualTo(1);
        assertThat(h.garbageLeaks()).isZero();
        assertThat(g.suspectedLeaks()).hasSize(1);
        assertThat(g.oldestInUseMillis(h)).isGreaterThanOrEqualTo(THRESHOLD_MS);
        g.returnedToPool(e);
        assertThat(events).containsExactly("age registry:443 Test Client with-stack", "returned registry:443");
        assertThat(g.suspectedLeaks()).isEmpty();
    }

    @Test
    void bytesStillMovingAreNoLeak() throws Exception {
        Governor g = governor(StackMode.OFF, THRESHOLD_MS, 2);
        Entry e = new Entry();
        g.beforeConnect(e.socket, "registry", 443, 0, true);
        g.borrowed(kind, e, e, e.socket, null, null, true);
        long end = System.nanoTime() + (THRESHOLD_MS + 400) * 1_000_000L;
        while (System.nanoTime() < end) {
            g.activity(e.socket); // a slow download: a read every 100 ms
            sleep(100);
            assertThat(g.scanForLeaks()).isZero();
        }
        assertThat(events).isEmpty();
    }

    @Test
    void aConnectionReturnedInTimeIsNeverReported() throws Exception {
        Governor g = governor(StackMode.SAMPLED, THRESHOLD_MS, 2);
        Entry e = new Entry();
        g.beforeConnect(e.socket, "registry", 443, 0, true);
        for (int i = 0; i < 20; i++) {
            g.borrowed(kind, e, e, e.socket, null, null, true);
            g.returnedToPool(e);
        }
        sleep(THRESHOLD_MS + 100);
        assertThat(g.scanForLeaks()).isZero();
        assertThat(g.borrows()).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void aLostHandleRetiresItsConnectionAndGivesTheSlotBack() throws Exception {
        Governor g = governor(StackMode.OFF, 0, 1);
        Entry e = new Entry();
        g.beforeConnect(e.socket, "registry", 443, 0, true);
        Object response = new Object();
        g.borrowed(kind, e, e, e.socket, response, null, true);
        response = null; // the application drops its response unclosed
        HostState h = g.host("registry", 443);
        long deadline = System.currentTimeMillis() + 10_000;
        while (h.open() > 0 && System.currentTimeMillis() < deadline) {
            System.gc();
            g.releaseCollected(100);
        }
        assertThat(retired).hasValue(1);
        assertThat(h.open()).as("the slot came back").isZero();
        assertThat(h.leaks()).isEqualTo(1);
        assertThat(events).containsExactly("garbage-handle registry:443 retired");
        assertThat(g.beforeConnect(new Object(), "registry", 443, 0, true)).isSameAs(Governor.ACQUIRED);
    }

    @Test
    void aHandleLostAfterItsConnectionWentBackIsNoLeak() throws Exception {
        Governor g = governor(StackMode.OFF, 0, 1);
        Entry e = new Entry();
        g.beforeConnect(e.socket, "registry", 443, 0, true);
        Object response = new Object();
        g.borrowed(kind, e, e, e.socket, response, null, true);
        g.returnedToPool(e);
        response = null;
        for (int i = 0; i < 5; i++) {
            System.gc();
            g.releaseCollected(50);
        }
        assertThat(retired).hasValue(0);
        assertThat(events).isEmpty();
    }

    @Test
    void aChannelDroppedUnclosedHasItsResidueClosed() throws Exception {
        Governor g = governor(StackMode.OFF, 0, 1);
        AtomicInteger closedResidue = new AtomicInteger();
        Closeable residue = closedResidue::incrementAndGet;
        Object channel = new Object();
        g.beforeConnect(channel, "registry", 443, 0, true, residue);
        channel = null;
        HostState h = g.host("registry", 443);
        long deadline = System.currentTimeMillis() + 10_000;
        while (h.open() > 0 && System.currentTimeMillis() < deadline) {
            System.gc();
            g.releaseCollected(100);
        }
        assertThat(closedResidue).hasValue(1);
        assertThat(events).containsExactly("garbage-connection registry:443");
    }

    @Test
    void aClosedChannelKeepsItsDescriptorToItself() {
        Governor g = governor(StackMode.OFF, 0, 1);
        AtomicInteger closedResidue = new AtomicInteger();
        Object channel = new Object();
        g.beforeConnect(channel, "registry", 443, 0, true, closedResidue::incrementAndGet);
        g.closed(channel);
        assertThat(closedResidue).as("the channel closed it; the agent must not close a reused fd number").hasValue(0);
    }

    @Test
    void aFinalizerCloseIsALeakOfTheBorrower() {
        Governor g = governor(StackMode.ALL, 0, 1);
        Entry e = new Entry();
        g.beforeConnect(e.socket, "registry", 443, 0, true);
        g.borrowed(kind, e, null, e.socket, null, null, true);
        g.closedByFinalizer(e.socket);
        g.closedByFinalizer(e.socket);
        assertThat(events).containsExactly("garbage-connection registry:443 borrowed");
        assertThat(g.host("registry", 443).leaks()).isEqualTo(1);
        assertThat(g.borrows()).isEmpty();
    }

    @Test
    void stackModes() {
        assertThat(new StackPolicy(StackMode.ALL).capture()).isNotNull();
        assertThat(new StackPolicy(StackMode.OFF).capture()).isNull();
        StackPolicy sampled = new StackPolicy(StackMode.SAMPLED);
        int captured = 0;
        for (int i = 0; i < 64 * 200; i++) {
            if (sampled.capture() != null) {
                captured++;
            }
        }
        assertThat(captured).as("about one in 64 of 12800").isBetween(100, 320);
        sampled.leakSeen();
        for (int i = 0; i < 100; i++) {
            assertThat(sampled.capture()).as("every one after a leak").isNotNull();
        }
    }

    @Test
    void aReconnectedEntryIsFoundThroughItsNewSocket() throws Exception {
        Governor g = governor(StackMode.OFF, THRESHOLD_MS, 2);
        Entry e = new Entry();
        g.borrowed(kind, e, e, null, null, null, true); // a new entry: no socket yet
        g.beforeConnect(e.socket, "registry", 443, 0, true); // connected right after the borrow
        sleep(THRESHOLD_MS + 100);
        assertThat(g.scanForLeaks()).isEqualTo(1);
        assertThat(events).containsExactly("age registry:443 Test Client");
    }
}

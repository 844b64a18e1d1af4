package io.connguard.agent.core.line;

import io.connguard.agent.core.line.HostLine.Admission;
import io.connguard.agent.core.line.HostLine.Offer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The line alone: pools are plain objects, connections are strings. */
class HostLineTest {

    private static final long MS = 1_000_000L;
    private static final long LONG = 10_000 * MS;

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @org.junit.jupiter.api.AfterEach
    void stop() {
        threads.shutdownNow();
    }

    private static long in(long nanos) {
        return System.nanoTime() + nanos;
    }

    private Future<Object> connect(HostLine line, long timeoutNanos) {
        return threads.submit(() -> (Object) line.acquire(in(timeoutNanos)));
    }

    private Future<Object> request(HostLine line, Object pool, long timeoutNanos) {
        return threads.submit(() -> line.awaitConnection(pool, in(timeoutNanos)));
    }

    private static void awaitQueued(HostLine line, int n) throws InterruptedException {
        long end = System.nanoTime() + 5_000 * MS;
        while (line.queued() != n) {
            assertThat(System.nanoTime() - end).as("queued %d (now %d)", n, line.queued()).isNegative();
            Thread.sleep(1);
        }
    }

    @Test
    void takesSlotsUpToTheLimitAndGivesThemBack() {
        HostLine line = new HostLine(2, 10);
        assertThat(line.tryAcquireNow()).isTrue();
        assertThat(line.tryAcquireNow()).isTrue();
        assertThat(line.tryAcquireNow()).isFalse();
        assertThat(line.held()).isEqualTo(2);
        assertThat(line.available()).isZero();
        line.release();
        assertThat(line.tryAcquireNow()).isTrue();
        line.release();
        line.release();
        assertThat(line.held()).isZero();
        line.release();
        assertThat(line.overReleases()).as("a release with nothing held makes no room").isEqualTo(1);
        assertThat(line.available()).isEqualTo(2);
    }

    @Test
    void noLimitNeverWaits() {
        HostLine line = new HostLine(0, 0);
        for (int i = 0; i < 1000; i++) {
            assertThat(line.tryAcquireNow()).isTrue();
        }
        assertThat(line.acquire(in(0))).isEqualTo(Admission.SLOT);
        assertThat(line.waits()).isZero();
    }

    @Test
    void overTheLimitWaitsUntilTheDeadline() {
        HostLine line = new HostLine(1, 10);
        assertThat(line.tryAcquireNow()).isTrue();
        long start = System.nanoTime();
        assertThat(line.acquire(in(100 * MS))).isEqualTo(Admission.TIMEOUT);
        assertThat(line.awaitConnection("pool", in(50 * MS))).isEqualTo(Admission.TIMEOUT);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(150 * MS);
        assertThat(line.timeouts()).isEqualTo(2);
        assertThat(line.waits()).isEqualTo(2);
        assertThat(line.queued()).isZero();
        assertThat(line.held()).isEqualTo(1);
    }

    @Test
    void aFullLineRefusesAtOnce() throws Exception {
        HostLine line = new HostLine(1, 2);
        line.tryAcquireNow();
        Future<Object> a = connect(line, LONG);
        awaitQueued(line, 1);
        Future<Object> b = request(line, "p", LONG);
        awaitQueued(line, 2);
        long start = System.nanoTime();
        assertThat(line.acquire(in(LONG))).isEqualTo(Admission.FULL);
        assertThat(line.awaitConnection("p", in(LONG))).isEqualTo(Admission.FULL);
        assertThat(System.nanoTime() - start).isLessThan(1_000 * MS);
        assertThat(line.queueFull()).isEqualTo(2);
        assertThat(line.peakQueued()).isEqualTo(2);
        line.release();
        assertThat(a.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        line.release();
        assertThat(b.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
    }

    @Test
    void aFreedSlotGoesToTheHeadOfEitherKindInArrivalOrderAndNobodyBarges() throws Exception {
        HostLine line = new HostLine(1, 10);
        line.tryAcquireNow();
        List<Future<Object>> waiters = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            waiters.add(i % 2 == 0 ? connect(line, LONG) : request(line, "pool" + i, LONG));
            awaitQueued(line, i + 1);
        }
        for (int i = 0; i < 6; i++) {
            line.release();
            assertThat(line.tryAcquireNow()).as("a newcomer never takes the slot meant for the head").isFalse();
            assertThat(waiters.get(i).get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
            for (int j = i + 1; j < 6; j++) {
                assertThat(waiters.get(j).isDone()).as("waiter %d after %d", j, i).isFalse();
            }
        }
        assertThat(line.held()).isEqualTo(1);
    }

    @Test
    void aConnectionComingBackGoesToTheFirstWaiterOfItsPoolEvenBehindAnotherKind() throws Exception {
        HostLine line = new HostLine(2, 10);
        line.tryAcquireNow();
        line.tryAcquireNow();
        Future<Object> connect = connect(line, LONG);
        awaitQueued(line, 1);
        Future<Object> q = request(line, "Q", LONG);
        awaitQueued(line, 2);
        Future<Object> p1 = request(line, "P", LONG);
        awaitQueued(line, 3);
        Future<Object> p2 = request(line, "P", LONG);
        awaitQueued(line, 4);

        assertThat(line.offerIdle("P", "conn-1")).isEqualTo(Offer.HANDED_OVER);
        assertThat(p1.get(5, TimeUnit.SECONDS)).isEqualTo("conn-1");
        assertThat(line.offerIdle("P", "conn-1")).isEqualTo(Offer.HANDED_OVER);
        assertThat(p2.get(5, TimeUnit.SECONDS)).isEqualTo("conn-1");
        assertThat(line.offerIdle("P", "conn-1")).as("no waiter of P left").isEqualTo(Offer.IDLE);
        assertThat(line.offerIdle("R", "conn-2")).isEqualTo(Offer.IDLE);
        assertThat(line.handOvers()).isEqualTo(2);
        assertThat(line.held()).as("a hand-over carries its slot").isEqualTo(2);
        assertThat(connect.isDone()).isFalse();
        assertThat(q.isDone()).isFalse();

        line.release();
        assertThat(connect.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        line.release();
        assertThat(q.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        assertThat(line.queued()).isZero();
    }

    @Test
    void anOfferWithNobodyWaitingGoesIdle() {
        HostLine line = new HostLine(1, 10);
        line.tryAcquireNow();
        assertThat(line.offerIdle("P", "c")).isEqualTo(Offer.IDLE);
        assertThat(line.handOvers()).isZero();
    }

    @Test
    void aHeadWaitingPastThePatienceGetsTheNextConnectionOfAnotherPool() throws Exception {
        HostLine line = new HostLine(1, 10, 0, 150 * MS);
        line.tryAcquireNow();
        long start = System.nanoTime();
        Future<Object> connect = connect(line, LONG); // the head: wants a slot
        awaitQueued(line, 1);
        Future<Object> p = request(line, "P", LONG);
        awaitQueued(line, 2);
        // Pool P keeps reusing its one connection while the head waits...
        Object handed = null;
        int reuses = 0;
        while (true) {
            Offer o = line.offerIdle("P", "conn");
            if (o == Offer.CLOSE) {
                break;
            }
            assertThat(o).isEqualTo(Offer.HANDED_OVER);
            handed = p.get(5, TimeUnit.SECONDS);
            reuses++;
            p = request(line, "P", LONG); // ...and its next request waits again behind the head
            awaitQueued(line, 2);
            Thread.sleep(5);
        }
        long waited = System.nanoTime() - start;
        assertThat(handed).isEqualTo("conn");
        assertThat(reuses).isPositive();
        assertThat(waited).as("refused only after the patience").isGreaterThanOrEqualTo(140 * MS);
        assertThat(waited).isLessThan(2_000 * MS);
        assertThat(line.reclaimsRequested()).isEqualTo(1);
        line.release(); // the caller closed it
        assertThat(connect.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        // The head of P's own pool is never refused: the next P connection is handed to it.
        assertThat(line.offerIdle("P", "conn")).isNotEqualTo(Offer.CLOSE);
        p.cancel(true);
    }

    @Test
    void aStarvingHeadAlsoTakesAConnectionThatWouldGoIdleToBeReusedAtOnce() throws Exception {
        // One client per thread: its connection goes idle and is taken again within microseconds, so
        // a settle-time reclaim would never see it idle long enough. The patience still bounds the wait.
        HostLine line = new HostLine(1, 10, 200 * MS, 100 * MS);
        line.tryAcquireNow();
        Future<Object> connect = connect(line, LONG);
        awaitQueued(line, 1);
        assertThat(line.offerIdle("P", "c")).isEqualTo(Offer.IDLE);
        Thread.sleep(120);
        assertThat(line.offerIdle("P", "c")).isEqualTo(Offer.CLOSE);
        line.release();
        assertThat(connect.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
    }

    @Test
    void thePatienceCountsFromBecomingTheHeadOrIsCutShortByTheDeadline() throws Exception {
        HostLine line = new HostLine(1, 10, 0, 200 * MS);
        line.tryAcquireNow();
        Future<Object> first = connect(line, 250 * MS); // its deadline soon comes within the patience
        awaitQueued(line, 1);
        Future<Object> second = connect(line, LONG);
        awaitQueued(line, 2);
        Thread.sleep(100);
        assertThat(line.offerIdle("P", "c")).as("deadline 150 ms away, patience 200 ms").isEqualTo(Offer.CLOSE);
        line.release();
        assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        Thread.sleep(120);
        assertThat(line.offerIdle("P", "c")).as("the second has waited 220 ms but been head only now")
                .isEqualTo(Offer.IDLE);
        Thread.sleep(220);
        assertThat(line.offerIdle("P", "c")).isEqualTo(Offer.CLOSE);
        line.release();
        assertThat(second.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
    }

    @Test
    void raisingTheLimitAdmitsWaitersAtOnceAndLoweringItClosesNothing() throws Exception {
        HostLine line = new HostLine(1, 10);
        line.tryAcquireNow();
        Future<Object> a = connect(line, LONG);
        awaitQueued(line, 1);
        Future<Object> b = request(line, "P", LONG);
        awaitQueued(line, 2);
        line.setLimit(3);
        assertThat(a.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        assertThat(b.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        assertThat(line.held()).isEqualTo(3);
        line.setLimit(1);
        assertThat(line.held()).as("open ones stay").isEqualTo(3);
        assertThat(line.available()).isEqualTo(-2);
        Future<Object> c = connect(line, LONG);
        awaitQueued(line, 1);
        line.release();
        line.release();
        assertThat(c.isDone()).as("still over the new limit").isFalse();
        line.release();
        assertThat(c.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        line.setLimit(0);
        assertThat(line.tryAcquireNow()).isTrue();
    }

    @Test
    void aThreadInterruptedBeforeItWaitsStillWaitsAndKeepsItsFlag() throws Exception {
        HostLine line = new HostLine(1, 10);
        line.tryAcquireNow();
        Future<Object[]> f = threads.submit(() -> {
            Thread.currentThread().interrupt();
            Object r = line.acquire(in(LONG));
            return new Object[] {r, Thread.currentThread().isInterrupted()};
        });
        awaitQueued(line, 1);
        Thread.sleep(50);
        assertThat(f.isDone()).isFalse();
        line.release();
        Object[] r = f.get(5, TimeUnit.SECONDS);
        assertThat(r[0]).isEqualTo(Admission.SLOT);
        assertThat(r[1]).isEqualTo(true);
    }

    @Test
    void anInterruptWhileWaitingEndsTheWaitAndKeepsTheFlag() throws Exception {
        HostLine line = new HostLine(1, 10);
        line.tryAcquireNow();
        AtomicReference<Thread> waiter = new AtomicReference<>();
        Future<Object[]> f = threads.submit(() -> {
            waiter.set(Thread.currentThread());
            Object r = line.awaitConnection("P", in(LONG));
            return new Object[] {r, Thread.currentThread().isInterrupted()};
        });
        awaitQueued(line, 1);
        waiter.get().interrupt();
        Object[] r = f.get(5, TimeUnit.SECONDS);
        assertThat(r[0]).isEqualTo(Admission.INTERRUPTED);
        assertThat(r[1]).isEqualTo(true);
        assertThat(line.queued()).isZero();
        assertThat(line.interrupted()).isEqualTo(1);
        assertThat(line.timeouts()).isZero();
        assertThat(line.offerIdle("P", "c")).as("an interrupted waiter is gone").isEqualTo(Offer.IDLE);
    }

    /** The third kind, for asynchronous clients: a completion, not a parked thread. */
    @Test
    void aCallbackWaiterIsCompletedOnTheGrantingThreadAndCanBeCancelled() throws Exception {
        HostLine line = new HostLine(1, 10);
        line.tryAcquireNow();
        CopyOnWriteArrayList<String> log = new CopyOnWriteArrayList<>();
        Waiter slot = new Waiter(null, in(LONG)) {
            @Override
            protected void granted(Object outcome) {
                log.add("slot " + outcome + " on " + Thread.currentThread().getName());
            }
        };
        Waiter conn = new Waiter("P", in(LONG)) {
            @Override
            protected void granted(Object outcome) {
                log.add("conn " + outcome + " on " + Thread.currentThread().getName());
            }
        };
        Waiter gone = new Waiter("P", in(LONG)) {
            @Override
            protected void granted(Object outcome) {
                log.add("never");
            }
        };
        assertThat(line.enqueue(slot)).isNull();
        assertThat(line.enqueue(conn)).isNull();
        assertThat(line.enqueue(gone)).isNull();
        assertThat(line.queued()).isEqualTo(3);
        assertThat(line.offerIdle("P", "c1")).isEqualTo(Offer.HANDED_OVER);
        assertThat(line.cancel(gone)).isTrue();
        assertThat(line.cancel(conn)).as("already granted: its owner must use the outcome").isFalse();
        assertThat(conn.outcome()).isEqualTo("c1");
        Thread releaser = new Thread(line::release, "releaser");
        releaser.start();
        releaser.join();
        assertThat(slot.outcome()).isEqualTo(Admission.SLOT);
        String me = Thread.currentThread().getName();
        assertThat(log).containsExactly("conn c1 on " + me, "slot SLOT on releaser");
        assertThat(line.timeouts()).as("cancelled before its deadline: not a timeout").isZero();
    }

    /** How a fleet store composes the line: a local slot first, then a fleet permit, else the slot goes back. */
    @Test
    void composesWithASecondGateTheWayAFleetStoreDoes() throws Exception {
        HostLine line = new HostLine(2, 10);
        java.util.concurrent.Semaphore fleet = new java.util.concurrent.Semaphore(1, true);
        java.util.function.LongFunction<Object> admit = deadline -> {
            Object r = line.acquire(deadline);
            if (r != Admission.SLOT) {
                return r;
            }
            boolean permit = false;
            try {
                permit = fleet.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!permit) {
                line.release(); // the local slot goes straight to the next waiter
                return Admission.TIMEOUT;
            }
            return Admission.SLOT;
        };
        assertThat(admit.apply(in(LONG))).isEqualTo(Admission.SLOT);
        assertThat(admit.apply(in(50 * MS))).as("local slot free, fleet permit not").isEqualTo(Admission.TIMEOUT);
        assertThat(line.held()).isEqualTo(1);
        Future<Object> waiting = threads.submit(() -> admit.apply(in(LONG)));
        Thread.sleep(50);
        fleet.release();
        line.release();
        assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        assertThat(line.held()).isEqualTo(1);
    }

    // ---- reclaim ------------------------------------------------------------------------------

    /** Idle connections as a Governor would list them; reclaim closes and releases, as its close hook would. */
    private static class Idle implements IdleConnections {
        final ConcurrentLinkedQueue<Object[]> idle = new ConcurrentLinkedQueue<>();
        final CopyOnWriteArrayList<Object> reclaimed = new CopyOnWriteArrayList<>();
        HostLine line;

        void add(Object pool, Object connection, long idleSinceNanos) {
            idle.add(new Object[] {pool, connection, idleSinceNanos});
        }

        @Override
        public void forEachIdle(Visitor visitor) {
            for (Object[] e : idle) {
                visitor.idle(e[0], e[1], (Long) e[2]);
            }
        }

        @Override
        public boolean reclaim(Object connection) {
            if (!idle.removeIf(e -> e[1] == connection)) {
                return false;
            }
            reclaimed.add(connection);
            line.release();
            return true;
        }
    }

    private static HostLine lineWith(Idle idle, int limit, long settleNanos) {
        HostLine line = new HostLine(limit, 10, settleNanos, 5_000 * MS); // well inside the LONG deadlines
        idle.line = line;
        line.idleConnections(idle);
        return line;
    }

    @Test
    void theHeadReclaimsTheLeastRecentlyUsedIdleConnectionOfAnotherPoolAfterTheSettleTime() throws Exception {
        Idle idle = new Idle();
        HostLine line = lineWith(idle, 2, 150 * MS);
        line.tryAcquireNow();
        line.tryAcquireNow();
        long now = System.nanoTime();
        idle.add("Q", "newer", now);
        idle.add("R", "older", now - 50 * MS);
        long start = System.nanoTime();
        Future<Object> p = request(line, "P", LONG);
        assertThat(p.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        long waited = System.nanoTime() - start;
        assertThat(idle.reclaimed).containsExactly("older");
        assertThat(waited).as("not before 'older' has been idle 150 ms").isGreaterThanOrEqualTo(90 * MS);
        assertThat(waited).isLessThan(2_000 * MS);
        assertThat(line.reclaimsRequested()).isEqualTo(1);
    }

    @Test
    void aConnectionIdleLongEnoughIsReclaimedAtOnceAndOnlyOnePerWaiter() throws Exception {
        Idle idle = new Idle();
        HostLine line = lineWith(idle, 3, 100 * MS);
        for (int i = 0; i < 3; i++) {
            line.tryAcquireNow();
        }
        long old = System.nanoTime() - 1_000 * MS;
        idle.add("Q", "q1", old);
        idle.add("Q", "q2", old + 1);
        idle.add("Q", "q3", old + 2);
        assertThat(line.acquire(in(LONG))).isEqualTo(Admission.SLOT);
        assertThat(idle.reclaimed).containsExactly("q1");
        assertThat(line.acquire(in(LONG))).isEqualTo(Admission.SLOT);
        assertThat(idle.reclaimed).containsExactly("q1", "q2");
    }

    @Test
    void theSettleTimeIsWaivedWhenTheHeadWouldOtherwiseWaitPastItsDeadline() throws Exception {
        Idle idle = new Idle();
        HostLine line = lineWith(idle, 1, 5_000 * MS);
        line.tryAcquireNow();
        idle.add("Q", "fresh", System.nanoTime());
        long start = System.nanoTime();
        assertThat(line.acquire(in(300 * MS))).isEqualTo(Admission.SLOT);
        assertThat(System.nanoTime() - start).isLessThan(250 * MS);
        assertThat(idle.reclaimed).containsExactly("fresh");
    }

    @Test
    void aConnectionThatGoesIdleWhileTheHeadWaitsIsReclaimedOnceSettled() throws Exception {
        Idle idle = new Idle();
        HostLine line = lineWith(idle, 1, 100 * MS);
        line.tryAcquireNow();
        Future<Object> head = connect(line, LONG);
        awaitQueued(line, 1);
        Thread.sleep(30);
        assertThat(line.offerIdle("Q", "q")).isEqualTo(Offer.IDLE);
        long wentIdle = System.nanoTime();
        idle.add("Q", "q", wentIdle);
        line.idleChanged();
        assertThat(head.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        assertThat(System.nanoTime() - wentIdle).isGreaterThanOrEqualTo(95 * MS);
        assertThat(idle.reclaimed).containsExactly("q");
    }

    @Test
    void onlyTheHeadReclaimsAndAReclaimLostToTheRaceIsPlannedAgain() throws Exception {
        AtomicBoolean first = new AtomicBoolean(true);
        Idle idle = new Idle() {
            @Override
            public boolean reclaim(Object connection) {
                if (first.getAndSet(false)) {
                    idle.removeIf(e -> e[1] == connection); // a pool lent it out just before
                    return false;
                }
                return super.reclaim(connection);
            }
        };
        HostLine line = lineWith(idle, 2, 0);
        line.tryAcquireNow();
        line.tryAcquireNow();
        Future<Object> a = connect(line, LONG);
        awaitQueued(line, 1);
        Future<Object> b = connect(line, LONG);
        awaitQueued(line, 2);
        idle.add("Q", "taken", System.nanoTime() - 1_000 * MS);
        idle.add("Q", "q2", System.nanoTime() - 500 * MS);
        idle.add("Q", "q3", System.nanoTime() - 100 * MS);
        line.idleChanged();
        assertThat(a.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        assertThat(b.get(5, TimeUnit.SECONDS)).isEqualTo(Admission.SLOT);
        assertThat(idle.reclaimed).containsExactly("q2", "q3");
    }

    @Test
    void anExceptionFromTheIdleViewNeverLeavesAWaiterBehindInTheLine() throws Exception {
        HostLine line = new HostLine(1, 10, 0, 5_000 * MS);
        line.idleConnections(new IdleConnections() {
            @Override
            public void forEachIdle(Visitor visitor) {
                visitor.idle("Q", "q", System.nanoTime() - 1_000 * MS);
            }

            @Override
            public boolean reclaim(Object connection) {
                throw new IllegalStateException("boom");
            }
        });
        line.tryAcquireNow();
        assertThat(line.acquire(in(100 * MS))).isEqualTo(Admission.TIMEOUT);
        line.idleConnections(new IdleConnections() {
            @Override
            public void forEachIdle(Visitor visitor) {
                throw new IllegalStateException("boom");
            }

            @Override
            public boolean reclaim(Object connection) {
                return false;
            }
        });
        assertThat(line.acquire(in(50 * MS))).isEqualTo(Admission.TIMEOUT);
        assertThat(line.queued()).isZero();
        line.release();
        assertThat(line.held()).as("nothing granted to a waiter that is gone").isZero();
    }

    @Test
    void aCallbackLineIsDrivenByPlanReclaim() {
        Idle idle = new Idle();
        HostLine line = lineWith(idle, 1, 100 * MS);
        line.tryAcquireNow();
        assertThat(line.planReclaim()).as("nobody waits").isNull();
        Waiter w = new Waiter(null, in(LONG)) {
            @Override
            protected void granted(Object outcome) {
            }
        };
        line.enqueue(w);
        assertThat(line.planReclaim()).as("nothing idle").isNull();
        long since = System.nanoTime();
        idle.add("Q", "q", since);
        ReclaimPlan plan = line.planReclaim();
        assertThat(plan.connection()).isEqualTo("q");
        assertThat(plan.atNanos()).isEqualTo(since + 100 * MS);
        assertThat(plan.due(since)).isFalse();
        assertThat(plan.due(since + 100 * MS)).isTrue();
        assertThat(idle.reclaim(plan.connection())).isTrue();
        assertThat(w.outcome()).isEqualTo(Admission.SLOT);
    }
}

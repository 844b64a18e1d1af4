package io.connguard.agent.core.line;

import io.connguard.agent.core.line.HostLine.Admission;
import io.connguard.agent.core.line.HostLine.Offer;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many threads (platform, and virtual ones where the JDK has them) on one line, with simulated
 * pools: requests that find an idle connection in their pool take it, others wait in the line;
 * connections coming back are offered, go idle or are closed; the head reclaims idle ones; some
 * waiters have short deadlines and some are interrupted. Bounded in time. Checks: never more than
 * the limit open; every slot given back exactly once; no connection used by two at once; FIFO for
 * slots and within each pool; no waiter with a long deadline times out (no lost wake-up, no
 * starvation), and the longest wait.
 */
class HostLineStressTest {

    private static final long MS = 1_000_000L;
    private static final int LIMIT = 8;
    private static final int POOLS = 4;

    private static final int IN_USE = 0;
    private static final int IDLE = 1;
    private static final int CLOSED = 2;

    static final class Conn {
        final Object pool;
        final AtomicInteger state = new AtomicInteger(IN_USE);
        final AtomicReference<Thread> user = new AtomicReference<>();
        volatile long idleSince;

        Conn(Object pool) {
            this.pool = pool;
        }
    }

    /** One run: the line, its simulated pools, and what was seen. */
    static final class Run implements IdleConnections {
        final HostLine line;
        final Object[] pools = new Object[POOLS];
        final Map<Object, ConcurrentLinkedDeque<Conn>> idle = new ConcurrentHashMap<>();
        final AtomicInteger open = new AtomicInteger();
        final LongAccumulator peakOpen = new LongAccumulator(Math::max, 0);
        final AtomicLong slotsTaken = new AtomicLong();
        final AtomicLong slotsReleased = new AtomicLong();
        final AtomicLong requests = new AtomicLong();
        final AtomicLong poolHits = new AtomicLong();
        final AtomicLong connects = new AtomicLong();
        final AtomicLong reclaimed = new AtomicLong();
        final AtomicLong closedOnOffer = new AtomicLong();
        final AtomicLong longTimeouts = new AtomicLong();
        final AtomicLong shortTimeouts = new AtomicLong();
        final AtomicLong interrupts = new AtomicLong();
        final LongAccumulator maxWaitNanos = new LongAccumulator(Math::max, 0);
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        /** (ticket, decidedAs, pool or null, slot?) of every waiter decided while queued. */
        final ConcurrentLinkedQueue<long[]> decided = new ConcurrentLinkedQueue<>();
        volatile boolean stop;

        Run(long settleNanos, long patienceNanos) {
            line = new HostLine(LIMIT, 100_000, settleNanos, patienceNanos);
            line.idleConnections(this);
            for (int i = 0; i < POOLS; i++) {
                pools[i] = "pool-" + i;
                idle.put(pools[i], new ConcurrentLinkedDeque<>());
            }
        }

        @Override
        public void forEachIdle(Visitor visitor) {
            for (ConcurrentLinkedDeque<Conn> q : idle.values()) {
                for (Conn c : q) {
                    if (c.state.get() == IDLE) {
                        visitor.idle(c.pool, c, c.idleSince);
                    }
                }
            }
        }

        @Override
        public boolean reclaim(Object connection) {
            Conn c = (Conn) connection;
            if (!c.state.compareAndSet(IDLE, CLOSED)) {
                return false;
            }
            idle.get(c.pool).remove(c);
            reclaimed.incrementAndGet();
            close();
            return true;
        }

        void opened() {
            int n = open.incrementAndGet();
            peakOpen.accumulate(n);
            if (n > LIMIT) {
                errors.add("open " + n + " > limit " + LIMIT);
            }
        }

        void close() {
            open.decrementAndGet();
            slotsReleased.incrementAndGet();
            line.release();
        }

        void use(Conn c) {
            if (!c.user.compareAndSet(null, Thread.currentThread())) {
                errors.add("a connection used by two at once");
            }
            if (c.state.get() != IN_USE) {
                errors.add("a connection used while " + c.state.get());
            }
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(10_000, 200_000));
            c.user.set(null);
        }

        /** One request: its pool's idle connection, or the line. */
        void request(int i) {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            Thread.interrupted();
            requests.incrementAndGet();
            boolean raw = i % 5 == 0;
            Object pool = raw ? null : pools[rnd.nextInt(POOLS)];
            Conn c = null;
            if (!raw) {
                ConcurrentLinkedDeque<Conn> q = idle.get(pool);
                for (Conn hit; c == null && (hit = q.pollLast()) != null; ) { // most recently used first, as pools do
                    if (hit.state.compareAndSet(IDLE, IN_USE)) {
                        c = hit;
                        poolHits.incrementAndGet();
                    }
                }
            }
            if (c == null) {
                boolean shortDeadline = rnd.nextInt(20) == 0;
                long start = System.nanoTime();
                HostLine.Parked w = new HostLine.Parked(pool,
                        start + (shortDeadline ? rnd.nextLong(100_000, 5 * MS) : 20_000 * MS));
                Object r = line.await(w);
                long waited = System.nanoTime() - start;
                if (waited > 2_000 * MS) {
                    System.out.println("LONG WAIT " + waited / MS + " ms r=" + r + " pool=" + pool + " ticket=" + w.ticket
                            + " decided=" + w.decidedAs + " held=" + line.held() + " limit=" + line.limit() + " queued="
                            + line.queued() + " open=" + open.get() + " idle=" + idle.values().stream().mapToInt(q -> q.size()).sum());
                }
                if (w.ticket != 0 && w.outcome() != null) {
                    decided.add(new long[] {w.ticket, w.decidedAs, pool == null ? -1 : pool.hashCode(),
                            w.outcome() == Admission.SLOT ? 1 : 0});
                }
                if (r == Admission.TIMEOUT) {
                    (shortDeadline ? shortTimeouts : longTimeouts).incrementAndGet();
                    maxWaitNanos.accumulate(waited);
                    return;
                }
                if (r == Admission.INTERRUPTED) {
                    interrupts.incrementAndGet();
                    return;
                }
                if (r == Admission.FULL) {
                    errors.add("full");
                    return;
                }
                maxWaitNanos.accumulate(waited);
                if (r == Admission.SLOT) {
                    slotsTaken.incrementAndGet();
                    connects.incrementAndGet();
                    opened();
                    c = new Conn(pool);
                } else {
                    c = (Conn) r;
                    if (c.pool != pool) {
                        errors.add("handed a connection of another pool");
                    }
                }
            }
            use(c);
            if (raw) {
                c.state.set(CLOSED);
                close();
                return;
            }
            Offer o = line.offerIdle(pool, c);
            if (o == Offer.CLOSE) {
                c.state.set(CLOSED);
                closedOnOffer.incrementAndGet();
                close();
            } else if (o == Offer.IDLE) {
                c.idleSince = System.nanoTime();
                c.state.set(IDLE);
                idle.get(pool).addLast(c);
                line.idleChanged();
            }
        }

        /** After the run: every idle connection closed; then nothing may be held. */
        void drain() {
            for (ConcurrentLinkedDeque<Conn> q : idle.values()) {
                for (Conn c; (c = q.poll()) != null; ) {
                    if (c.state.compareAndSet(IDLE, CLOSED)) {
                        close();
                    }
                }
            }
        }

        void checkFifo() {
            List<long[]> all = new ArrayList<>(decided);
            all.sort(Comparator.comparingLong(d -> d[1]));
            long lastSlot = 0;
            Map<Long, Long> lastOfPool = new ConcurrentHashMap<>();
            for (long[] d : all) {
                if (d[3] == 1) {
                    if (d[0] <= lastSlot) {
                        errors.add("a slot went to ticket " + d[0] + " after ticket " + lastSlot);
                    }
                    lastSlot = d[0];
                }
                if (d[2] != -1) {
                    Long last = lastOfPool.get(d[2]);
                    if (last != null && d[0] <= last) {
                        errors.add("pool order: ticket " + d[0] + " after " + last);
                    }
                    lastOfPool.put(d[2], d[0]);
                }
            }
        }

        String summary(String name, int threads, long millis) {
            return String.format("%s: %d threads, %d ms: %d requests, %d pool hits, %d waits, %d hand-overs, %d connects,"
                            + " %d reclaimed, %d closed on offer (patience), peak open %d, peak queued %d, max wait %d ms,"
                            + " timeouts long/short %d/%d, interrupted %d",
                    name, threads, millis, requests.get(), poolHits.get(), line.waits(), line.handOvers(), connects.get(),
                    reclaimed.get(), closedOnOffer.get(), peakOpen.get(), line.peakQueued(), maxWaitNanos.get() / MS,
                    longTimeouts.get(), shortTimeouts.get(), interrupts.get());
        }
    }

    private static Run run(String name, int platform, int virtual, long settleNanos, long patienceNanos, long millis,
                           boolean interrupter) throws Exception {
        Run run = new Run(settleNanos, patienceNanos);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < platform + virtual; t++) {
            Runnable body = () -> {
                for (int i = ThreadLocalRandom.current().nextInt(5); !run.stop; i++) {
                    try {
                        run.request(i);
                    } catch (Throwable e) {
                        run.errors.add(e.toString());
                    }
                }
            };
            workers.add(t < platform ? new Thread(body, "stress-" + t) : virtualThread(body));
        }
        for (Thread t : workers) {
            t.start();
        }
        long end = System.nanoTime() + millis * MS;
        while (System.nanoTime() - end < 0) {
            Thread.sleep(interrupter ? 3 : 50);
            if (interrupter) {
                workers.get(ThreadLocalRandom.current().nextInt(workers.size())).interrupt();
            }
        }
        run.stop = true;
        for (Thread t : workers) {
            t.join(30_000);
            assertThat(t.isAlive()).as("%s: a worker still waits after the run (a lost wake-up)", name).isFalse();
        }
        run.drain();
        System.out.println(run.summary(name, platform + virtual, millis));
        run.checkFifo();
        assertThat(run.errors).as(name).isEmpty();
        assertThat(run.peakOpen.get()).isLessThanOrEqualTo(LIMIT);
        assertThat(run.line.held()).as("every slot given back").isZero();
        assertThat(run.line.overReleases()).as("and none twice").isZero();
        assertThat(run.slotsTaken.get()).isEqualTo(run.slotsReleased.get());
        assertThat(run.line.queued()).isZero();
        assertThat(run.longTimeouts.get()).as("%s: nobody with a long deadline timed out", name).isZero();
        assertThat(run.maxWaitNanos.get()).as("%s: the longest wait", name).isLessThan(5_000 * MS);
        assertThat(run.line.waits()).isPositive();
        assertThat(run.line.handOvers()).isPositive();
        return run;
    }

    /** A virtual thread where the JDK has them (21+); this module compiles for 17. */
    private static Thread virtualThread(Runnable body) throws Exception {
        Method ofVirtual = Thread.class.getMethod("ofVirtual");
        Method unstarted = Class.forName("java.lang.Thread$Builder").getMethod("unstarted", Runnable.class);
        return (Thread) unstarted.invoke(ofVirtual.invoke(null), body);
    }

    private static boolean virtualThreads() {
        try {
            Thread.class.getMethod("ofVirtual");
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    @Test
    void platformThreadsWithTheProposedDefaults() throws Exception {
        run("platform, defaults", 64, 0, HostLine.DEFAULT_SETTLE_NANOS, HostLine.DEFAULT_PATIENCE_NANOS, 1_500, false);
    }

    @Test
    void platformThreadsWithShortSettleAndPatienceAndInterrupts() throws Exception {
        Run r = run("platform, settle 2 ms, patience 20 ms, interrupts", 64, 0, 2 * MS, 20 * MS, 1_500, true);
        assertThat(r.reclaimed.get() + r.closedOnOffer.get()).as("reclaims happened").isPositive();
    }

    @Test
    void manyVirtualThreads() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(virtualThreads(), "virtual threads need JDK 21+");
        run("virtual, defaults", 16, 1_000, HostLine.DEFAULT_SETTLE_NANOS, HostLine.DEFAULT_PATIENCE_NANOS, 1_500,
                false);
        run("virtual, settle 2 ms, patience 20 ms, interrupts", 16, 1_000, 2 * MS, 20 * MS, 1_500, true);
    }

    @Test
    void limitChangesWhileEveryoneWaits() throws Exception {
        Run run = new Run(2 * MS, 20 * MS);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < 48; t++) {
            Thread w = new Thread(() -> {
                for (int i = 0; !run.stop; i++) {
                    run.request(i);
                }
            });
            workers.add(w);
            w.start();
        }
        long end = System.nanoTime() + 1_000 * MS;
        int[] limits = {1, 8, 3, 0, 5, 8};
        for (int i = 0; System.nanoTime() - end < 0; i++) {
            run.line.setLimit(limits[i % limits.length]);
            Thread.sleep(20);
        }
        run.line.setLimit(LIMIT);
        run.stop = true;
        for (Thread t : workers) {
            t.join(30_000);
            assertThat(t.isAlive()).isFalse();
        }
        run.drain();
        System.out.println(run.summary("limit changes", 48, 1_000));
        run.errors.removeIf(e -> e.startsWith("open ")); // 0 = no limit: more may open, by design
        assertThat(run.errors).isEmpty();
        assertThat(run.line.held()).isZero();
        assertThat(run.line.overReleases()).isZero();
        assertThat(run.slotsTaken.get()).isEqualTo(run.slotsReleased.get());
        assertThat(run.longTimeouts.get()).isZero();
    }
}

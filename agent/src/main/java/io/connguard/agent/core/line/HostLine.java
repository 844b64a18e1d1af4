package io.connguard.agent.core.line;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One destination's line: at most {@link #limit()} slots held (one per open connection), and one
 * FIFO of {@link Waiter}s of two kinds, served by direct hand-off so that nobody barges:
 *
 * <ul>
 *   <li>a connect waiting for a slot ({@link #acquire}; pool null);</li>
 *   <li>a request of pool P waiting for a connection of P ({@link #awaitConnection}): it gets a
 *       connection of P handed over when one comes back ({@link #offerIdle}: the connection is
 *       reused, it never goes idle), or a slot (then it connects), whichever comes first.</li>
 * </ul>
 *
 * <p><b>Order.</b> A slot that frees ({@link #release}, or a raised limit) goes to the head of the
 * line, whatever its kind. A connection of P that comes back goes to the first waiter of P, even
 * when the head is a waiter of another kind or pool: reuse under the cap is the point, and the
 * connection never held the head's capacity in another pool. Newcomers never pass a waiter:
 * {@link #tryAcquireNow} fails while anyone waits.
 *
 * <p><b>No starvation.</b> A head that keeps losing to reuse (every connection coming back goes to
 * a waiter of its own pool, or straight back to its pool's next request, so nothing is ever idle
 * for the settle time) is bounded by the <em>patience</em>: once the waiter has been first in line
 * that long, or its deadline is nearer than that, every connection offered that is not of its
 * pool is refused for hand-over ({@link Offer#CLOSE}): its caller closes it at once and its slot,
 * released, goes to the head. So a waiter, once first in line, has a slot or a connection of its
 * pool within the patience plus the time until any connection to the destination next comes back
 * or closes (and within its deadline, if any connection comes back before it). A waiter behind
 * it moves up in FIFO order as each waiter ahead of it is served, times out or is cancelled, and
 * no waiter of the same pool ever passes another. The patience counts from becoming the head,
 * not from joining the line: in a deep line every head has waited long, and counting from the
 * join would refuse every hand-over and close every connection that comes back, which is the
 * churn this line exists to end.
 *
 * <p><b>Reclaim.</b> Idle pooled connections hold slots. The head (and only the head, so that
 * reclaims never outnumber the capacity asked for) plans a reclaim with {@link ReclaimPlan}:
 * least recently used first, of a pool that has no waiter, and not before it has been idle for the
 * <em>settle time</em>, unless the head would wait past its deadline for that. A parked head
 * closes it itself through {@link IdleConnections#reclaim}; a line of callbacks is driven by
 * {@link #planReclaim}.
 *
 * <p><b>Threads.</b> One {@link ReentrantLock}; waiters park with {@link LockSupport}, so a
 * virtual thread never pins its carrier. Outcomes are decided under the lock and delivered
 * ({@link Waiter#granted}) after it is released, on the deciding thread. Every slot granted is
 * given back by exactly one {@link #release}; a connection handed over carries the slot it already
 * held.
 *
 * <p><b>Fleet.</b> The line knows nothing of a fleet: a fleet store composes it (a slot granted
 * here, then a fleet permit; if the permit does not come, {@link #release} the slot). A connection
 * handed over already holds both.
 */
public final class HostLine {

    /** The outcomes that are not a connection handed over. */
    public enum Admission {
        /** A slot: connect, and {@link #release} it once when the connection closes (or the connect fails). */
        SLOT,
        /** The deadline passed first. */
        TIMEOUT,
        /** The line was full ({@code queueMax} waiters): refused at once, without waiting. */
        FULL,
        /** The thread was interrupted while it waited; its interrupt flag is set again. */
        INTERRUPTED
    }

    /** What the caller of {@link #offerIdle} does with the connection. */
    public enum Offer {
        /** Given to a waiter of its pool: keep it in use, never put it in the pool. */
        HANDED_OVER,
        /** Nobody of its pool waits: put it in the pool, then call {@link #idleChanged}. */
        IDLE,
        /** The head of the line has waited past the patience: close it; its slot goes to the head. */
        CLOSE
    }

    /**
     * The default settle time: a connection that went idle less than this ago is not reclaimed.
     * It covers (1) a server with several workers or a shared counter that has not yet finished
     * the bookkeeping of the request that just ended on this connection (nginx's
     * {@code limit_conn} lets go of a request in its log phase, right after the response; on
     * loopback well under a millisecond, under load tens of milliseconds), so that closing it and
     * opening a replacement does not look like cap + 1; and (2) a client that returns its
     * connection and asks for the next one a moment later (one client per thread), so that its
     * reuse is not destroyed. It is also what a waiter pays when capacity sits idle in a pool that
     * will not use it again (a puller that finished), once per such turnover: 100 ms keeps that
     * within a few percent of a storm's wall time (the storm turns capacity over a handful
     * of times in about 8 s), where 250 ms would not. It stays far below every client's own
     * keep-alive time (5 s for {@code HttpURLConnection}, 20 minutes for {@code java.net.http}) and
     * the queue timeout (30 s). Measured against nginx (test-apps/BENCHMARKS.md, "Settle time"):
     * 0 ms destroyed two thirds of a client-per-puller storm's reuse, 25-100 ms kept it whole at
     * the ideal's wall time, 200 ms cost 28% of wall time.
     */
    public static final long DEFAULT_SETTLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /**
     * The proposed patience (see the class comment): 10 settle times, so that a head is never forced
     * before an idle connection could have been reclaimed normally, and a small part of the queue
     * timeout, so that a line of heads each waiting it out still moves.
     */
    public static final long DEFAULT_PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** A parked head plans no more often than this. */
    private static final long MIN_REPLAN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /** Reported by {@link #available()} when there is no limit. */
    static final int UNLIMITED = 1 << 30;

    private final ReentrantLock lock = new ReentrantLock();
    private final int queueMax;
    private final long settleNanos;
    private final long patienceNanos;
    private volatile IdleConnections idle;

    // Guarded by lock.
    private int limit;
    private int held;
    private Waiter head;
    private Waiter tail;
    private int queued;
    private long tickets;
    private long decisions;
    /** Pools by equality: a pool key is a value object (a route of one client's pool). */
    private final HashMap<Object, PoolQueue> pools = new HashMap<>();

    // Written under lock, read by anyone.
    private volatile long waits;
    private volatile long handOvers;
    private volatile long reclaimsRequested;
    private volatile long timeouts;
    private volatile long queueFull;
    private volatile long interrupted;
    private volatile int peakQueued;
    private volatile int queuedNow;
    private volatile int heldNow;
    private volatile long overReleases;

    public HostLine(int limit, int queueMax) {
        this(limit, queueMax, DEFAULT_SETTLE_NANOS, DEFAULT_PATIENCE_NANOS);
    }

    /**
     * @param limit         slots; 0 = no limit
     * @param queueMax      waiters at most; one more is refused at once ({@link Admission#FULL})
     * @param settleNanos   see {@link #DEFAULT_SETTLE_NANOS}
     * @param patienceNanos see {@link #DEFAULT_PATIENCE_NANOS}
     */
    public HostLine(int limit, int queueMax, long settleNanos, long patienceNanos) {
        if (limit < 0 || queueMax < 0 || settleNanos < 0 || patienceNanos < 0) {
            throw new IllegalArgumentException("negative limit, queue max, settle time or patience");
        }
        this.limit = limit;
        this.queueMax = queueMax;
        this.settleNanos = settleNanos;
        this.patienceNanos = patienceNanos;
    }

    /** Where the head finds idle connections to reclaim; none (null) until set. */
    public void idleConnections(IdleConnections idle) {
        this.idle = idle;
    }

    // ---- taking and giving back slots --------------------------------------------------------

    /** Takes a slot if one is free and nobody waits; never blocks, never passes a waiter. */
    public boolean tryAcquireNow() {
        lock.lock();
        try {
            if (head == null && hasRoom()) {
                heldNow = ++held;
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A connect waits for a slot until {@code deadlineNanos} ({@link System#nanoTime()}).
     *
     * @return {@link Admission#SLOT}, {@link Admission#TIMEOUT}, {@link Admission#FULL} or
     *         {@link Admission#INTERRUPTED}
     */
    public Admission acquire(long deadlineNanos) {
        return (Admission) await(new Parked(null, deadlineNanos));
    }

    /**
     * A request of {@code pool} found no idle connection in it and waits, until
     * {@code deadlineNanos}, for a connection of that pool or a slot.
     *
     * <p>A thread interrupted before it had to wait waits normally (a platform thread's
     * {@code Socket.connect} ignores the flag); only an interrupt that arrives while waiting ends
     * the wait. The flag is kept either way.
     *
     * @return the connection handed over (use it as if the pool had lent it), or an
     *         {@link Admission}
     */
    public Object awaitConnection(Object pool, long deadlineNanos) {
        if (pool == null) {
            throw new IllegalArgumentException("a request waiting for a connection names its pool");
        }
        return await(new Parked(pool, deadlineNanos));
    }

    /**
     * Puts {@code w} in line, or grants it a slot at once when one is free and nobody waits.
     *
     * @return {@link Admission#SLOT} (taken now: {@link Waiter#granted} is not called),
     *         {@link Admission#FULL}, or null: it waits, and {@link Waiter#granted} will be called
     *         unless {@link #cancel} takes it out first
     */
    public Admission enqueue(Waiter w) {
        lock.lock();
        try {
            if (head == null && hasRoom()) {
                heldNow = ++held;
                return Admission.SLOT;
            }
            if (queued >= queueMax) {
                queueFull++;
                return Admission.FULL;
            }
            w.enqueuedNanos = System.nanoTime();
            link(w);
            waits++;
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes {@code w} out of the line (its deadline passed, or its owner gave up). Counted as a
     * timeout when its deadline has passed.
     *
     * @return false if it had already been granted: its {@link Waiter#outcome} must then be used
     *         (a slot released, a connection given back to its pool)
     */
    public boolean cancel(Waiter w) {
        Waiter newHead;
        lock.lock();
        try {
            if (!w.queued) {
                return false;
            }
            Waiter before = head;
            unlink(w);
            if (System.nanoTime() - w.deadlineNanos >= 0) {
                timeouts++;
            }
            newHead = head != before ? head : null;
        } finally {
            lock.unlock();
        }
        if (newHead != null) {
            newHead.becameHead();
        }
        return true;
    }

    /** Gives one slot back; the head of the line, of either kind, gets it at once. */
    public void release() {
        Waiter granted = null;
        Waiter newHead = null;
        lock.lock();
        try {
            if (held == 0) {
                overReleases++; // a bug of the caller's; never let it make room that is not there
                return;
            }
            heldNow = --held;
            if (head != null && hasRoom()) {
                granted = head;
                unlink(granted);
                heldNow = ++held;
                granted.decide(Admission.SLOT, ++decisions);
                newHead = head;
            }
        } finally {
            lock.unlock();
        }
        if (granted != null) {
            granted.granted(Admission.SLOT);
            if (newHead != null) {
                newHead.becameHead();
            }
        }
    }

    /**
     * A connection of {@code pool} is about to go idle (call before the pool holds it, so that no
     * other request can take it meanwhile).
     *
     * @return {@link Offer#HANDED_OVER}: the first waiter of {@code pool} has it, keep it in use;
     *         {@link Offer#IDLE}: put it in the pool, then call {@link #idleChanged};
     *         {@link Offer#CLOSE}: the head has waited past the patience, close it (its slot goes
     *         to the head when released)
     */
    public Offer offerIdle(Object pool, Object connection) {
        Waiter taker;
        Waiter newHead;
        lock.lock();
        try {
            Waiter h = head;
            if (h == null) {
                return Offer.IDLE;
            }
            if (!Objects.equals(h.pool, pool) && starving(h, System.nanoTime())) {
                reclaimsRequested++;
                return Offer.CLOSE;
            }
            PoolQueue q = pool == null ? null : pools.get(pool);
            if (q == null) {
                return Offer.IDLE;
            }
            taker = q.first;
            unlink(taker);
            handOvers++;
            taker.decide(connection, ++decisions);
            newHead = head != h ? head : null;
        } finally {
            lock.unlock();
        }
        taker.granted(connection);
        if (newHead != null) {
            newHead.becameHead();
        }
        return Offer.HANDED_OVER;
    }

    /** A connection became idle in its pool (after {@link Offer#IDLE}): the head may plan a reclaim. */
    public void idleChanged() {
        Waiter h;
        lock.lock();
        try {
            h = head;
        } finally {
            lock.unlock();
        }
        if (h != null) {
            h.becameHead();
        }
    }

    /**
     * The reclaim the head of the line wants, for a driver other than a parked head (a timer
     * serving callbacks): close {@link ReclaimPlan#connection()} through
     * {@link IdleConnections#reclaim} once {@link ReclaimPlan#due}, and plan again. Null when
     * nobody waits, nothing is idle, or no {@link IdleConnections} is set.
     */
    public ReclaimPlan planReclaim() {
        return plan(null, System.nanoTime());
    }

    /** Changes the limit (0 = none). Raising it admits waiters at once; lowering it closes nothing. */
    public void setLimit(int newLimit) {
        if (newLimit < 0) {
            throw new IllegalArgumentException("limit must be 0 (no limit) or more, not " + newLimit);
        }
        List<Waiter> granted = null;
        Waiter newHead = null;
        lock.lock();
        try {
            limit = newLimit;
            Waiter before = head;
            while (head != null && hasRoom()) {
                Waiter w = head;
                unlink(w);
                heldNow = ++held;
                w.decide(Admission.SLOT, ++decisions);
                if (granted == null) {
                    granted = new ArrayList<>();
                }
                granted.add(w);
            }
            newHead = head != before ? head : null;
        } finally {
            lock.unlock();
        }
        if (granted != null) {
            for (Waiter w : granted) {
                w.granted(Admission.SLOT);
            }
        }
        if (newHead != null) {
            newHead.becameHead();
        }
    }

    // ---- the parked thread --------------------------------------------------------------------

    /** Package-private so that tests can read the waiter's order afterwards. */
    Object await(Parked w) {
        Admission now = enqueue(w);
        if (now != null) {
            return now;
        }
        boolean interruptedBefore = Thread.interrupted();
        boolean interruptedHere = false;
        long quietUntil = System.nanoTime();
        try {
            while (true) {
                Object o = w.outcome();
                if (o != null) {
                    return o;
                }
                long t = System.nanoTime();
                if (t - w.deadlineNanos >= 0) {
                    if (cancel(w)) {
                        return Admission.TIMEOUT;
                    }
                    continue; // granted meanwhile
                }
                long wakeAt = w.deadlineNanos;
                ReclaimPlan p = t - quietUntil >= 0 ? plan(w, t) : null;
                if (p != null) {
                    if (p.due(t)) {
                        if (reclaim(p.connection())) {
                            // Its release grants us, perhaps later (a close confirmed by the server):
                            // plan no second reclaim for the same wait meanwhile.
                            quietUntil = t + Math.max(settleNanos, MIN_REPLAN_NANOS);
                        }
                        continue; // if it was taken meanwhile, plan again
                    }
                    wakeAt = earlier(wakeAt, p.atNanos());
                } else if (t - quietUntil < 0) {
                    wakeAt = earlier(wakeAt, quietUntil);
                } else if (idle != null && isHead(w)) {
                    // Nothing to plan now: look again within a settle time even if no idleChanged comes.
                    wakeAt = earlier(wakeAt, t + Math.max(settleNanos, MIN_REPLAN_NANOS));
                }
                if (w.outcome() != null) {
                    // Granted while we planned: its unpark may have been spent on the lock above (a
                    // ReentrantLock parks too, and permits do not count), so never park on it.
                    continue;
                }
                LockSupport.parkNanos(this, Math.max(1, wakeAt - t));
                if (Thread.interrupted()) {
                    interruptedHere = true;
                    if (cancel(w)) {
                        countInterrupt();
                        return Admission.INTERRUPTED;
                    }
                }
            }
        } finally {
            if (interruptedBefore || interruptedHere) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Never lets an exception of the Governor's out of a wait: the waiter would leave without being
     * taken out of the line, and a slot granted to it later would never be given back. A failed
     * reclaim counts as done, so the waiter does not retry at once but after the quiet time.
     */
    private boolean reclaim(Object connection) {
        IdleConnections ic = idle;
        if (ic == null) {
            return false;
        }
        try {
            return ic.reclaim(connection);
        } catch (Throwable t) {
            return true; // do not plan again at once: wait for the release, or look again after the quiet time
        }
    }

    private boolean isHead(Waiter w) {
        lock.lock();
        try {
            return head == w;
        } finally {
            lock.unlock();
        }
    }

    private static long earlier(long a, long b) {
        return b - a < 0 ? b : a;
    }

    private void countInterrupt() {
        lock.lock();
        try {
            interrupted++;
        } finally {
            lock.unlock();
        }
    }

    /** The head's plan; for {@code asHead} only if it is still the head. Counts a due one. */
    private ReclaimPlan plan(Waiter asHead, long now) {
        IdleConnections ic = idle;
        if (ic == null) {
            return null;
        }
        lock.lock();
        try {
            Waiter h = head;
            if (h == null || (asHead != null && h != asHead)) {
                return null;
            }
            ReclaimPlan p;
            try {
                p = ReclaimPlan.choose(ic, pools::containsKey, now, settleNanos, h.deadlineNanos);
            } catch (Throwable t) {
                return null; // the Governor's view failed: wait without reclaiming (see reclaim)
            }
            if (p != null && p.due(now)) {
                reclaimsRequested++;
            }
            return p;
        } finally {
            lock.unlock();
        }
    }

    static final class Parked extends Waiter {
        private final Thread thread = Thread.currentThread();

        Parked(Object pool, long deadlineNanos) {
            super(pool, deadlineNanos);
        }

        @Override
        protected void granted(Object outcome) {
            LockSupport.unpark(thread);
        }

        @Override
        protected void becameHead() {
            LockSupport.unpark(thread);
        }
    }

    // ---- the queue (under lock) -----------------------------------------------------------------

    /** The head has had no capacity for the patience, or would not have it before its deadline. */
    private boolean starving(Waiter h, long now) {
        return now - h.headSinceNanos >= patienceNanos || h.deadlineNanos - now <= patienceNanos;
    }

    private boolean hasRoom() {
        return limit == 0 || held < limit;
    }

    private void link(Waiter w) {
        // The pool's queue first, before the waiter is anywhere in the line: finding it runs the
        // pool key's hashCode and equals (a client's object) and may allocate, and if that throws
        // the line must be as it was. A waiter left half linked (the head, but not queued) made
        // every later connect wait behind it, and the slot granted to it was never given back.
        PoolQueue q = null;
        if (w.pool != null) {
            boolean created = false;
            try {
                q = pools.get(w.pool);
                if (q == null) {
                    q = new PoolQueue();
                    created = true;
                    pools.put(w.pool, q);
                }
            } catch (Throwable t) {
                if (created) {
                    forget(w.pool, q); // an empty queue would say the pool has a waiter
                }
                throw t;
            }
        }
        // Only field writes from here on.
        w.prev = tail;
        w.next = null;
        if (tail == null) {
            head = w;
            w.headSinceNanos = w.enqueuedNanos;
        } else {
            tail.next = w;
        }
        tail = w;
        if (q != null) {
            w.poolPrev = q.last;
            w.poolNext = null;
            if (q.last == null) {
                q.first = w;
            } else {
                q.last.poolNext = w;
            }
            q.last = w;
        }
        w.queued = true;
        w.ticket = ++tickets;
        queuedNow = ++queued;
        if (queued > peakQueued) {
            peakQueued = queued;
        }
    }

    private void forget(Object pool, PoolQueue q) {
        try {
            pools.remove(pool, q);
        } catch (Throwable ignored) {
            // the key's hashCode threw again: then put never stored it either
        }
    }

    private void unlink(Waiter w) {
        if (w.prev == null) {
            head = w.next;
            if (head != null) {
                head.headSinceNanos = System.nanoTime();
            }
        } else {
            w.prev.next = w.next;
        }
        if (w.next == null) {
            tail = w.prev;
        } else {
            w.next.prev = w.prev;
        }
        w.prev = null;
        w.next = null;
        if (w.pool != null) {
            PoolQueue q = pools.get(w.pool);
            if (w.poolPrev == null) {
                q.first = w.poolNext;
            } else {
                w.poolPrev.poolNext = w.poolNext;
            }
            if (w.poolNext == null) {
                q.last = w.poolPrev;
            } else {
                w.poolNext.poolPrev = w.poolPrev;
            }
            w.poolPrev = null;
            w.poolNext = null;
            if (q.first == null) {
                pools.remove(w.pool); // a pool's entry lives only while it has waiters: no growth
            }
        }
        w.queued = false;
        queuedNow = --queued;
    }

    private static final class PoolQueue {
        Waiter first;
        Waiter last;
    }

    // ---- what JMX, meters and tests read ------------------------------------------------------

    /** The limit in force; 0 = none. */
    public int limit() {
        lock.lock();
        try {
            return limit;
        } finally {
            lock.unlock();
        }
    }

    /** Slots held now (open connections counted against the limit). */
    public int held() {
        return heldNow;
    }

    /** Slots free now; negative after a lowered limit; a large number when there is no limit. */
    public int available() {
        lock.lock();
        try {
            return limit == 0 ? UNLIMITED : limit - held;
        } finally {
            lock.unlock();
        }
    }

    /** Waiters in line now. */
    public int queued() {
        return queuedNow;
    }

    /** The most waiters ever in line at once. */
    public int peakQueued() {
        return peakQueued;
    }

    public int queueMax() {
        return queueMax;
    }

    public long settleNanos() {
        return settleNanos;
    }

    public long patienceNanos() {
        return patienceNanos;
    }

    /** Waiters that joined the line (had to wait). */
    public long waits() {
        return waits;
    }

    /** Connections handed over from a request that ended to one that waited. */
    public long handOvers() {
        return handOvers;
    }

    /** Reclaims the line asked for: planned ones due, and {@link Offer#CLOSE} answers. */
    public long reclaimsRequested() {
        return reclaimsRequested;
    }

    /** Waiters whose deadline passed in line. */
    public long timeouts() {
        return timeouts;
    }

    /** Waiters refused at once because the line was full. */
    public long queueFull() {
        return queueFull;
    }

    /** Waits ended by an interrupt. */
    public long interrupted() {
        return interrupted;
    }

    /** Releases with no slot held: a caller's bug, ignored and counted (0 in a correct program). */
    public long overReleases() {
        return overReleases;
    }
}

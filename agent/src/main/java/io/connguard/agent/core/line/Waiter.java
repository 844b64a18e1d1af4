package io.connguard.agent.core.line;

/**
 * One place in a {@link HostLine}: a completion, not a thread. A connect waiting for a slot has no
 * pool; a request waiting for a connection of its pool names the pool (any object, compared by
 * identity). The line decides the outcome under its lock and then calls {@link #granted} once,
 * outside the lock, on the thread that decided it (the one that released a slot or offered a
 * connection). A parked thread is one kind of waiter ({@link HostLine#acquire},
 * {@link HostLine#awaitConnection}); an asynchronous client's callback is another, added by
 * subclassing: its {@link #granted} re-issues the work on the client's own executor and never
 * blocks, and whoever owns its deadline calls {@link HostLine#cancel} when it passes.
 */
public abstract class Waiter {

    final Object pool;
    final long deadlineNanos;
    long enqueuedNanos;
    /** When it became first in line (guarded by the line's lock). */
    long headSinceNanos;

    // The line's links, guarded by its lock. A waiter is in the line exactly while queued is true.
    Waiter prev;
    Waiter next;
    Waiter poolPrev;
    Waiter poolNext;
    boolean queued;
    /** Order of joining the line, and of being decided: FIFO is checkable from these alone. */
    long ticket;
    long decidedAs;

    /** Null while waiting; then {@link HostLine.Admission#SLOT} or the connection handed over. */
    private volatile Object outcome;

    /**
     * @param pool          the pool whose connection would do, or null for a connect that needs a slot
     * @param deadlineNanos {@link System#nanoTime()} after which the waiter gives up
     */
    protected Waiter(Object pool, long deadlineNanos) {
        this.pool = pool;
        this.deadlineNanos = deadlineNanos;
    }

    public final Object pool() {
        return pool;
    }

    public final long deadlineNanos() {
        return deadlineNanos;
    }

    /** When it joined the line ({@link System#nanoTime()}). */
    public final long enqueuedNanos() {
        return enqueuedNanos;
    }

    /** Null while waiting, then {@link HostLine.Admission#SLOT} or the connection handed over. */
    public final Object outcome() {
        return outcome;
    }

    final void decide(Object o, long order) {
        decidedAs = order;
        outcome = o;
    }

    /**
     * The line gave this waiter a slot ({@link HostLine.Admission#SLOT}: it must connect and
     * release the slot once) or a connection of its pool (it must use it as if its pool had lent
     * it). Runs once, after the line's lock is released, on the granting thread: must not block.
     */
    protected abstract void granted(Object outcome);

    /**
     * This waiter is now first in line: the one whose wait the line shortens by planning reclaims
     * ({@link HostLine#planReclaim}). Runs outside the line's lock; must not block. A parked thread
     * wakes up to plan; a callback does nothing (its owner's timer plans).
     */
    protected void becameHead() {
    }
}

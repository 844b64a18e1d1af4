package io.connguard.agent.core;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * In-process slot accounting: one fair {@link Semaphore} per destination. A fair semaphore is a
 * FIFO line built on {@code AbstractQueuedSynchronizer}, so waiters park with
 * {@code LockSupport} and never pin a virtual thread's carrier.
 */
public final class LocalSlotStore implements SlotStore {

    /** Permits that stand for "no limit": far more than any JVM can have sockets open. */
    static final int UNLIMITED = 1 << 30;

    @Override
    public HostSlots create(HostKey key, int limit) {
        return new Slots(limit);
    }

    private static final class Slots implements HostSlots {
        private final AdjustableSemaphore semaphore;
        private volatile int limit;

        Slots(int limit) {
            this.limit = limit;
            this.semaphore = new AdjustableSemaphore(permitsFor(limit));
        }

        private static int permitsFor(int limit) {
            return limit > 0 ? limit : UNLIMITED;
        }

        @Override
        public boolean tryAcquireNow() {
            // tryAcquire() barges past the line; only use it when there is no line, so that a
            // newcomer never overtakes a waiter. (tryAcquire(0, ns) would honour the line too, but
            // it throws InterruptedException, and a connect on an interrupted thread must not fail
            // because of us.)
            return !semaphore.hasQueuedThreads() && semaphore.tryAcquire();
        }

        @Override
        public boolean tryAcquire(long timeoutNanos) throws InterruptedException {
            return semaphore.tryAcquire(timeoutNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void release() {
            semaphore.release();
        }

        @Override
        public int limit() {
            return limit;
        }

        @Override
        public void setLimit(int newLimit) {
            // Serialised by the caller (Governor.setLimit runs them under a lock per host), so the
            // old and new permit totals are consistent.
            int delta = permitsFor(newLimit) - permitsFor(limit);
            limit = newLimit;
            if (delta > 0) {
                semaphore.release(delta);
            } else if (delta < 0) {
                // Connections already open above the new limit stay open; new connects wait until
                // enough of them have closed.
                semaphore.reducePermits(-delta);
            }
        }

        @Override
        public int available() {
            return semaphore.availablePermits();
        }

        @Override
        public int queued() {
            return semaphore.getQueueLength();
        }
    }

    /** Exposes {@link Semaphore#reducePermits} so a limit can be lowered at run time. */
    private static final class AdjustableSemaphore extends Semaphore {
        private static final long serialVersionUID = 1L;

        AdjustableSemaphore(int permits) {
            super(permits, true);
        }

        @Override
        protected void reducePermits(int reduction) {
            super.reducePermits(reduction);
        }
    }
}

package io.connguard.agent.core;

import io.connguard.agent.core.line.HostLine;

/**
 * In-process slot accounting: one {@link HostLine} per destination, the FIFO line of connects
 * waiting for a slot and of pool requests waiting for a connection (waiters park with
 * {@code LockSupport}, so a virtual thread never pins its carrier). The queue max is the
 * Governor's to enforce (it words the refusal), so the line itself is never full.
 */
public final class LocalSlotStore implements SlotStore {

    private final long settleNanos;
    private final long patienceNanos;

    /** With the default settle time and patience ({@link HostLine#DEFAULT_SETTLE_NANOS}). */
    public LocalSlotStore() {
        this(HostLine.DEFAULT_SETTLE_NANOS);
    }

    /** Patience is 10 settle times, and at least {@link HostLine#DEFAULT_PATIENCE_NANOS}. */
    public LocalSlotStore(long settleNanos) {
        this.settleNanos = settleNanos;
        this.patienceNanos = Math.max(HostLine.DEFAULT_PATIENCE_NANOS, 10 * settleNanos);
    }

    @Override
    public HostSlots create(HostKey key, int limit) {
        return new Slots(new HostLine(limit, Integer.MAX_VALUE, settleNanos, patienceNanos));
    }

    private static final class Slots implements HostSlots {
        private final HostLine line;

        Slots(HostLine line) {
            this.line = line;
        }

        @Override
        public boolean tryAcquireNow() {
            return line.tryAcquireNow(); // never passes a waiter
        }

        @Override
        public boolean tryAcquire(long timeoutNanos) throws InterruptedException {
            switch (line.acquire(System.nanoTime() + timeoutNanos)) {
                case SLOT:
                    return true;
                case INTERRUPTED:
                    Thread.interrupted(); // the caller sets it again, as it did for a semaphore's wait
                    throw new InterruptedException();
                default:
                    return false;
            }
        }

        @Override
        public void release() {
            line.release();
        }

        @Override
        public int limit() {
            return line.limit();
        }

        @Override
        public void setLimit(int newLimit) {
            line.setLimit(newLimit); // raising it grants waiters at once; lowering it closes nothing
        }

        @Override
        public int available() {
            return line.available();
        }

        @Override
        public int queued() {
            return line.queued();
        }

        @Override
        public HostLine line() {
            return line;
        }
    }
}

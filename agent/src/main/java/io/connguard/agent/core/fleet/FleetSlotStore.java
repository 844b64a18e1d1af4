package io.connguard.agent.core.fleet;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostKey;
import io.connguard.agent.core.HostSlots;
import io.connguard.agent.core.SlotStore;

/**
 * Slots for a fleet: every destination keeps this JVM's own cap on it, and a
 * destination with a fleet-wide cap also needs a permit from its {@link FleetHost}. Both hold: a
 * connect takes its local slot first, then its fleet permit, waiting for each in a FIFO line
 * within one queue timeout, and gives the local slot back if the permit does not come.
 */
public final class FleetSlotStore implements SlotStore {

    private final SlotStore local;
    private final Governor.LimitResolver fleetCaps;
    private final FleetCoordinator coordinator;

    public FleetSlotStore(SlotStore local, Governor.LimitResolver fleetCaps, FleetCoordinator coordinator) {
        this.local = local;
        this.fleetCaps = fleetCaps;
        this.coordinator = coordinator;
    }

    public FleetCoordinator coordinator() {
        return coordinator;
    }

    @Override
    public HostSlots create(HostKey key, int limit) {
        HostSlots slots = local.create(key, limit);
        int cap = fleetCaps.limitFor(key.host(), key.port());
        return cap > 0 ? new Both(slots, coordinator.host(key, cap)) : slots;
    }

    private static final class Both implements HostSlots {
        private final HostSlots local;
        private final FleetHost fleet;

        Both(HostSlots local, FleetHost fleet) {
            this.local = local;
            this.fleet = fleet;
        }

        @Override
        public boolean tryAcquireNow() {
            if (!local.tryAcquireNow()) {
                return false;
            }
            if (fleet.tryAcquireNow()) {
                return true;
            }
            local.release();
            return false;
        }

        @Override
        public boolean tryAcquire(long timeoutNanos) throws InterruptedException {
            long start = System.nanoTime();
            if (!local.tryAcquire(timeoutNanos)) {
                return false;
            }
            boolean got = false;
            try {
                got = fleet.tryAcquireNow() || fleet.tryAcquire(Math.max(0, timeoutNanos - (System.nanoTime() - start)));
                return got;
            } finally {
                if (!got) {
                    local.release();
                }
            }
        }

        @Override
        public void release() {
            fleet.release();
            local.release();
        }

        @Override
        public int limit() {
            return local.limit();
        }

        @Override
        public void setLimit(int newLimit) {
            local.setLimit(newLimit);
        }

        @Override
        public int available() {
            return Math.min(local.available(), fleet.available());
        }

        @Override
        public int queued() {
            return local.queued() + fleet.queued();
        }

        @Override
        public FleetHost fleet() {
            return fleet;
        }

        @Override
        public io.connguard.agent.core.line.HostLine line() {
            return local.line();
        }
    }
}

package io.connguard.agent.core;

/** Makes the {@link HostSlots} for each destination. See {@link LocalSlotStore}. */
public interface SlotStore {
    HostSlots create(HostKey key, int limit);
}

package io.connguard.agent.core;

import java.lang.ref.Reference;

/**
 * A throw-away key to find, in a map keyed by references ({@link Lease}, {@link Borrow}), the one
 * that refers to a given object. {@code ConcurrentHashMap} calls {@code probe.equals(storedKey)},
 * so only this side needs to know; stored keys compare by identity of their referent.
 */
public final class Identity {
    private final Object target;
    private final int hash;

    public Identity(Object target) {
        this.target = target;
        this.hash = System.identityHashCode(target);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Reference && refersTo((Reference<?>) o, target);
    }

    @SuppressWarnings("unchecked")
    private static boolean refersTo(Reference<?> ref, Object target) {
        return ((Reference<Object>) ref).refersTo(target);
    }
}

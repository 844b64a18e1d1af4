package io.connguard.agent.core;

/**
 * What the core needs to know about one kind of client pool: its name for reports, how to find
 * the socket or channel behind a pooled connection object, and how to retire a leaked one (close
 * it and take it out of its pool) the way the pool itself would.
 */
public final class PoolKind {

    /**
     * The socket or channel behind a borrow; null if it has none (yet). {@code key} and
     * {@code pooled} are what the hook passed to {@code Governor#borrowed} ({@code key} is null
     * once collected).
     */
    public interface Resolver {
        Object counted(Object key, Object pooled) throws Throwable;
    }

    /** Closes a leaked connection and removes it from its pool the way the pool would. */
    public interface Retirer {
        void retire(Object key, Object pooled) throws Throwable;
    }

    private final String client;
    final Resolver resolver;
    final Retirer retirer;

    public PoolKind(String client, Resolver resolver, Retirer retirer) {
        this.client = client;
        this.resolver = resolver;
        this.retirer = retirer;
    }

    /** {@code Apache HttpClient 4}: how reports name the client. */
    public String client() {
        return client;
    }

    @Override
    public String toString() {
        return client;
    }
}

package io.connguard.agent.instrument.http;

import io.connguard.agent.core.Identity;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Stacks captured on the caller's thread for requests whose connection is borrowed later on
 * another thread ({@code java.net.http.HttpClient}: the request object is made in {@code send},
 * the connection taken on the client's executor). Keyed weakly by the request object's identity;
 * entries of requests that never borrowed (failed, HTTP/2) go with their request.
 */
public final class CallSites {

    private final ConcurrentHashMap<Object, Throwable> sites = new ConcurrentHashMap<>();
    private final ReferenceQueue<Object> gone = new ReferenceQueue<>();

    public void put(Object request, Throwable site) {
        expunge();
        sites.put(new Key(request, gone), site);
    }

    /** The stack captured for {@code request}, removed; null if none was captured. */
    public Throwable take(Object request) {
        return request == null ? null : sites.remove(new Identity(request));
    }

    private void expunge() {
        Object k;
        while ((k = gone.poll()) != null) {
            sites.remove(k);
        }
    }

    private static final class Key extends WeakReference<Object> {
        private final int hash;

        Key(Object referent, ReferenceQueue<Object> queue) {
            super(referent, queue);
            this.hash = System.identityHashCode(referent);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return this == o;
        }
    }
}

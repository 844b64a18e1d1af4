package io.connguard.agent.core.fleet;

import io.connguard.agent.core.HostKey;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fleet's permit store in memory, with the rules of the Redis script (leases, the line of
 * waiting JVMs, one permit per exchange in turn while JVMs wait), shared by several
 * {@link FleetCoordinator}s standing in for JVMs. {@link #down} makes every exchange fail.
 */
final class InMemoryFleet {

    private final ReentrantLock lock = new ReentrantLock();
    private final Map<HostKey, Dest> dests = new HashMap<>();
    private final long leaseNanos;
    volatile boolean down;
    /** JVMs cut off from the store (as if killed: they can no longer renew). */
    final java.util.Set<String> cut = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Hosts whose keys the store refuses (as Redis does with NOPERM or MOVED). */
    final java.util.Set<String> refused = java.util.concurrent.ConcurrentHashMap.newKeySet();
    volatile long latencyNanos;

    InMemoryFleet(long leaseMillis) {
        this.leaseNanos = TimeUnit.MILLISECONDS.toNanos(leaseMillis);
    }

    private static final class Dest {
        final Map<String, Integer> claims = new HashMap<>();
        final Map<String, Long> expiry = new HashMap<>();
        final ArrayDeque<String> line = new ArrayDeque<>();
        final Map<String, Long> lineExpiry = new HashMap<>();
    }

    /** Loses everything, as a Redis restarted without persistence does. */
    void wipe() {
        lock.lock();
        try {
            dests.clear();
        } finally {
            lock.unlock();
        }
    }

    /** Permits held by every live JVM for {@code key}. */
    int inUse(HostKey key) {
        lock.lock();
        try {
            Dest d = dests.get(key);
            if (d == null) {
                return 0;
            }
            purge(d, System.nanoTime());
            return d.claims.values().stream().mapToInt(Integer::intValue).sum();
        } finally {
            lock.unlock();
        }
    }

    FleetBackend jvm(String id) {
        return new FleetBackend() {
            @Override
            public Sync sync(HostKey host, int cap, int held, int pending, int extra) throws Exception {
                if (down || cut.contains(id)) {
                    throw new java.net.ConnectException("store down");
                }
                if (refused.contains(host.host())) {
                    throw new Refused("NOPERM no permissions to access the keys of " + host.host());
                }
                if (latencyNanos > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(latencyNanos);
                }
                return exchange(id, host, cap, held, pending, extra);
            }

            @Override
            public String describe() {
                return "in-memory fleet";
            }
        };
    }

    private void purge(Dest d, long now) {
        d.expiry.entrySet().removeIf(e -> {
            if (e.getValue() - now <= 0) {
                d.claims.remove(e.getKey());
                return true;
            }
            return false;
        });
        d.lineExpiry.entrySet().removeIf(e -> {
            if (e.getValue() - now <= 0) {
                d.line.removeIf(e.getKey()::equals);
                return true;
            }
            return false;
        });
    }

    /** The Redis script's rules: one ticket per waiting connect, first come first served across JVMs. */
    private FleetBackend.Sync exchange(String jvm, HostKey key, int cap, int held, int pending, int extra) {
        lock.lock();
        try {
            long now = System.nanoTime();
            Dest d = dests.computeIfAbsent(key, k -> new Dest());
            purge(d, now);
            d.claims.remove(jvm);
            int used = d.claims.values().stream().mapToInt(Integer::intValue).sum() + held;
            int own = (int) d.line.stream().filter(jvm::equals).count();
            int free = cap - used;
            int granted = 0;
            if (pending > 0 && d.line.size() == own && free >= pending) {
                d.line.removeIf(jvm::equals);
                own = 0;
                granted = Math.min(free, pending + extra);
            } else if (pending > 0) {
                while (own < pending) {
                    d.line.addLast(jvm);
                    own++;
                }
                while (own > pending) {
                    d.line.removeLastOccurrence(jvm);
                    own--;
                }
                if (free > 0) {
                    int i = 0;
                    for (String t : d.line) {
                        if (i++ >= free) {
                            break;
                        }
                        if (t.equals(jvm)) {
                            granted++;
                        }
                    }
                    for (int g = 0; g < granted; g++) {
                        d.line.removeFirstOccurrence(jvm);
                    }
                    own -= granted;
                }
            } else {
                d.line.removeIf(jvm::equals);
                own = 0;
                if (extra > 0 && free > 0 && d.line.isEmpty()) {
                    granted = Math.min(free, extra);
                }
            }
            if (own > 0) {
                d.lineExpiry.put(jvm, now + leaseNanos);
            } else {
                d.lineExpiry.remove(jvm);
            }
            int mine = held + granted;
            used += granted;
            if (mine > 0) {
                d.claims.put(jvm, mine);
                d.expiry.put(jvm, now + leaseNanos);
            } else {
                d.expiry.remove(jvm);
            }
            return new FleetBackend.Sync(granted, used, d.line.size() - own);
        } finally {
            lock.unlock();
        }
    }
}

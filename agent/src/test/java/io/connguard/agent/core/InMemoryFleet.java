package io.connguard.agent.core;

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
            public Sync sync(HostKey host, int cap, int claimed, int want, int maxGrant) throws Exception {
                if (down || cut.contains(id)) {
                    throw new java.net.ConnectException("store down");
                }
                if (latencyNanos > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(latencyNanos);
                }
                return exchange(id, host, cap, claimed, want, maxGrant);
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
                d.line.remove(e.getKey());
                return true;
            }
            return false;
        });
    }

    private FleetBackend.Sync exchange(String jvm, HostKey key, int cap, int claimed, int want, int maxGrant) {
        lock.lock();
        try {
            long now = System.nanoTime();
            Dest d = dests.computeIfAbsent(key, k -> new Dest());
            purge(d, now);
            d.claims.remove(jvm);
            int total = d.claims.values().stream().mapToInt(Integer::intValue).sum() + claimed;
            int granted = 0;
            if (want > 0) {
                int free = cap - total;
                int rank = indexOf(d.line, jvm);
                if (rank < 0) {
                    if (d.line.isEmpty() && free > 0) {
                        granted = Math.min(Math.min(want, free), maxGrant);
                    } else if (d.line.size() < free) {
                        granted = 1;
                    }
                    if (granted < want) {
                        d.line.addLast(jvm);
                    }
                } else if (rank < free) {
                    granted = 1;
                    d.line.remove(jvm);
                    if (granted < want) {
                        d.line.addLast(jvm);
                    }
                }
                if (d.line.contains(jvm)) {
                    d.lineExpiry.put(jvm, now + leaseNanos);
                } else {
                    d.lineExpiry.remove(jvm);
                }
            } else {
                d.line.remove(jvm);
                d.lineExpiry.remove(jvm);
            }
            int mine = claimed + granted;
            total += granted;
            if (mine > 0) {
                d.claims.put(jvm, mine);
                d.expiry.put(jvm, now + leaseNanos);
            } else {
                d.expiry.remove(jvm);
            }
            int others = d.line.size() - (d.line.contains(jvm) ? 1 : 0);
            return new FleetBackend.Sync(granted, total, others);
        } finally {
            lock.unlock();
        }
    }

    private static int indexOf(ArrayDeque<String> line, String jvm) {
        int i = 0;
        for (String s : line) {
            if (s.equals(jvm)) {
                return i;
            }
            i++;
        }
        return -1;
    }
}

package io.connguard.agent.fleet.redis;

import io.connguard.agent.threads.AgentThreads;

import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Name resolution with a bound: the JDK's lookup cannot be given a timeout nor interrupted, so it
 * runs on a thread of its own and the caller waits for it at most {@code timeoutMillis}. A lookup
 * that has not answered by then is left running, and the next resolution of the same name waits for
 * that one (again within its bound) rather than starting another: however long the resolver hangs,
 * at most one lookup thread is alive, and its answer is used as soon as it comes.
 */
final class BoundedResolver {

    /** A name lookup; {@link InetAddress#getByName} in the agent, one that hangs in tests. */
    interface Lookup {
        InetAddress lookup(String host) throws UnknownHostException;
    }

    private record Pending(String host, CompletableFuture<InetAddress> answer) {
    }

    private final Lookup lookup;
    private final ThreadFactory threads;
    private final AtomicReference<Pending> pending = new AtomicReference<>();

    BoundedResolver(Lookup lookup, ThreadFactory threads) {
        this.lookup = lookup;
        this.threads = threads;
    }

    /** The system resolver, on daemon threads named {@code connguard-fleet-resolve}. */
    static BoundedResolver system() {
        return new BoundedResolver(InetAddress::getByName, r -> AgentThreads.create("connguard-fleet-resolve", r));
    }

    /**
     * The address of {@code host}, waiting at most {@code timeoutMillis}.
     *
     * @throws UnknownHostException   the name does not resolve
     * @throws SocketTimeoutException no answer within the bound (or an earlier lookup of another
     *                                name still hangs)
     */
    InetAddress resolve(String host, long timeoutMillis) throws IOException {
        Pending p = pending.get();
        if (p == null || p.answer().isDone()) {
            Pending fresh = new Pending(host, new CompletableFuture<>());
            if (pending.compareAndSet(p, fresh)) {
                start(fresh);
            }
            p = pending.get();
        }
        if (!p.host().equals(host)) {
            throw new SocketTimeoutException("cannot resolve " + host + ": the lookup of " + p.host()
                    + " has not answered yet");
        }
        try {
            return p.answer().get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new SocketTimeoutException("no answer resolving " + host + " within " + timeoutMillis + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("cannot resolve " + host + ": " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted resolving " + host, e);
        }
    }

    private void start(Pending p) {
        try {
            threads.newThread(() -> {
                try {
                    p.answer().complete(lookup.lookup(p.host()));
                } catch (Throwable e) {
                    p.answer().completeExceptionally(e);
                }
            }).start();
        } catch (Throwable e) {
            p.answer().completeExceptionally(e); // no thread: this lookup fails, the next one tries again
        }
    }
}

package io.connguard.agent.core.fleet;

import io.connguard.agent.core.HostKey;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The store, called with a bound: each call runs on one worker thread and the coordinator's thread
 * waits for its answer at most {@code boundMillis}. A call that has not answered by then is left to
 * finish on its own (a socket read or a name lookup cannot be interrupted) and counts as the store
 * being unreachable, so the coordinator falls back without waiting for it.
 *
 * <p>At most one call is in flight: the store's connection belongs to one thread, and a stuck call
 * must not pile up threads. While it is stuck, every further call fails at once, without a thread;
 * once it answers (or its own timeouts end it) the next call goes through, and the coordinator
 * recovers as it does after any outage. So a stuck store costs one parked thread, never more. The
 * worker ends after {@link #IDLE_SECONDS} without a call.
 */
final class FleetWatchdog implements FleetBackend {

    /** The default bound on one call to the store, answer included. */
    static final long DEFAULT_BOUND_MILLIS = 2_000;
    /** An idle worker ends after this long; the next call starts another. */
    static final long IDLE_SECONDS = 30;

    private final FleetBackend backend;
    private final long boundNanos;
    private final ThreadPoolExecutor worker;
    /** The last call handed to the worker; only the coordinator's thread writes it. */
    private volatile FutureTask<?> inFlight;
    private volatile long inFlightSinceNanos;

    FleetWatchdog(FleetBackend backend, long boundMillis, ThreadFactory threads) {
        this.backend = backend;
        this.boundNanos = TimeUnit.MILLISECONDS.toNanos(boundMillis);
        // One thread; the queue never holds more than one call, as a call is handed over only when
        // the one before it is done.
        this.worker = new ThreadPoolExecutor(1, 1, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), threads);
        this.worker.allowCoreThreadTimeOut(true);
    }

    @Override
    public Sync sync(HostKey host, int cap, int held, int pending, int extra) throws Exception {
        return call(() -> backend.sync(host, cap, held, pending, extra));
    }

    @Override
    public void releaseAll(HostKey host, int cap) throws Exception {
        call(() -> {
            backend.releaseAll(host, cap);
            return null;
        });
    }

    @Override
    public String describe() {
        return backend.describe();
    }

    /** Whether a call is in flight that has not answered (for tests and diagnostics). */
    boolean stuck() {
        FutureTask<?> last = inFlight;
        return last != null && !last.isDone();
    }

    /** Ends the worker once its call (if any) is done; a stuck call keeps its thread until it answers. */
    void shutdown() {
        worker.shutdown();
    }

    private <T> T call(Callable<T> task) throws Exception {
        FutureTask<?> last = inFlight;
        if (last != null && !last.isDone()) {
            throw new Unanswered("a call has had no answer for "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - inFlightSinceNanos) + " ms");
        }
        FutureTask<T> call = new FutureTask<>(task);
        inFlight = call;
        inFlightSinceNanos = System.nanoTime();
        worker.execute(call);
        try {
            return call.get(boundNanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new Unanswered("no answer within " + TimeUnit.NANOSECONDS.toMillis(boundNanos) + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception) {
                throw (Exception) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw e;
        }
    }

    /** A call the store did not answer within the bound: the store counts as unreachable. */
    static final class Unanswered extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        Unanswered(String message) {
            super(message);
        }
    }
}

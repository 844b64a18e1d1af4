package io.connguard.agent.core;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Decides which opens and borrows carry a stack. A stack costs microseconds (the JVM walks the
 * frames), so {@link StackMode#SAMPLED} takes one in {@value #SAMPLE_ONE_IN}, the way Netty's leak
 * detector samples; for ten minutes after a leak is seen, every one, so that the next report of a
 * leak that repeats (they do: leaks pile up) names the code, without paying for stacks for good
 * after one stray report.
 */
class StackPolicy { // not final: a test makes its capture fail (see GovernorFaultTest)

    static final int SAMPLE_ONE_IN = 64;

    private final StackMode mode;
    static final long CAPTURE_ALL_AFTER_LEAK_NANOS = 10 * 60 * 1_000_000_000L;

    /** When the last leak was seen (nanoTime), or 0 for never. */
    private volatile long leakSeenAt;

    StackPolicy(StackMode mode) {
        this.mode = mode;
    }

    /**
     * A stack of the current thread, or null if this one is not sampled. It walks the stack and
     * allocates, so it can throw a {@code StackOverflowError} or an {@code OutOfMemoryError}; the
     * Governor gives the slot back if it does.
     */
    Throwable capture() {
        switch (mode) {
            case ALL:
                return new CapturedStack();
            case SAMPLED:
                return ThreadLocalRandom.current().nextInt(SAMPLE_ONE_IN) == 0 || recentLeak() ? new CapturedStack() : null;
            default:
                return null;
        }
    }

    private boolean recentLeak() {
        long at = leakSeenAt;
        return at != 0 && System.nanoTime() - at < CAPTURE_ALL_AFTER_LEAK_NANOS;
    }

    void leakSeen() {
        if (mode == StackMode.SAMPLED) {
            leakSeenAt = System.nanoTime() | 1; // never 0
        }
    }

    /** Only its frames matter; no message, no suppression list. */
    static final class CapturedStack extends Throwable {
        private static final long serialVersionUID = 1L;

        CapturedStack() {
            super(null, null, false, true);
        }
    }
}

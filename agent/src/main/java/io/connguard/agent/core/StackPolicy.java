package io.connguard.agent.core;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Decides which opens and borrows carry a stack. A stack costs microseconds (the JVM walks the
 * frames), so {@link StackMode#SAMPLED} takes one in {@value #SAMPLE_ONE_IN}, the way Netty's leak
 * detector samples, until the first leak is seen; from then on every one, so that the next report
 * of a leak that repeats (they do: leaks pile up) names the code.
 */
final class StackPolicy {

    static final int SAMPLE_ONE_IN = 64;

    private final StackMode mode;
    private volatile boolean leakSeen;

    StackPolicy(StackMode mode) {
        this.mode = mode;
    }

    /** A stack of the current thread, or null if this one is not sampled. */
    Throwable capture() {
        switch (mode) {
            case ALL:
                return new CapturedStack();
            case SAMPLED:
                return leakSeen || ThreadLocalRandom.current().nextInt(SAMPLE_ONE_IN) == 0 ? new CapturedStack() : null;
            default:
                return null;
        }
    }

    void leakSeen() {
        if (mode == StackMode.SAMPLED && !leakSeen) {
            leakSeen = true;
        }
    }

    StackMode mode() {
        return mode;
    }

    /** Only its frames matter; no message, no suppression list. */
    static final class CapturedStack extends Throwable {
        private static final long serialVersionUID = 1L;

        CapturedStack() {
            super(null, null, false, true);
        }
    }
}

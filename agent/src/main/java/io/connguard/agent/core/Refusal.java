package io.connguard.agent.core;

/**
 * Why a connect got no slot, with the numbers a report needs: the core decides, and the words
 * (the exception's message, the log line) are written outside it from this one value, so that
 * the exception and the log line of one event cannot disagree.
 *
 * @param reason        what ended the attempt
 * @param host          the destination
 * @param cap           which cap was in force
 * @param limit         the cap that bit, as {@code ConnectionLimitException.limit()} reports it
 * @param hostLimit     this JVM's own cap on the destination; 0 = none
 * @param capLimit      the cap of {@code cap}: this JVM's own, the fleet-wide one, or the fallback
 *                      one (0 when the fallback has no cap)
 * @param fleetInUse    fleet-wide caps: permits in use across the fleet when last seen
 * @param inUseHere     fleet-wide caps: of those, held by this JVM
 * @param queued        connects waiting in this JVM's line for the destination
 * @param queueMax      the longest that line may get
 * @param waitedMillis  how long this connect waited
 * @param callerTimeoutMillis the caller's connect timeout when that is what bounded the wait, else 0
 */
public record Refusal(Reason reason, HostKey host, Cap cap, int limit, int hostLimit, int capLimit,
                      int fleetInUse, int inUseHere, int queued, int queueMax, long waitedMillis,
                      long callerTimeoutMillis) {

    public enum Reason {
        /** Waited the queue timeout (or the caller's shorter connect timeout) without a slot. */
        TIMED_OUT,
        /** The line of waiting connects was full: refused without waiting. */
        QUEUE_FULL,
        /** Interrupted while waiting. */
        INTERRUPTED
    }

    public enum Cap {
        /** This JVM's own cap on the destination. */
        HOST,
        /** The fleet-wide cap, shared through the fleet's permit store. */
        FLEET,
        /** The per-JVM cap that stands in for the fleet-wide one while the permit store cannot be used. */
        FLEET_FALLBACK
    }
}

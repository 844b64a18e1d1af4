package io.connguard.testapps.client;

/** Performs one GET on behalf of one load thread. */
interface Requester extends AutoCloseable {

    /**
     * @return {@code null} when the answer was a 200 whose body was read completely, otherwise the
     *         reason it failed (e.g. {@code status=401}); exceptions count as failures too
     */
    String get() throws Exception;

    @Override
    default void close() {
    }

    /** Makes the requester each load thread uses (one per thread; it may share state). */
    interface Factory extends AutoCloseable {
        Requester newRequester() throws Exception;

        @Override
        default void close() {
        }
    }
}

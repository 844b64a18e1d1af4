package io.connguard.agent.retry;

import io.connguard.agent.core.RetryCall;

import java.io.IOException;

/**
 * One client's retry glue: how the {@link Retries} policy is applied to its requests and
 * connects. A client overrides the hooks its advice calls; the rest pass the client's own result
 * through. Hooks that continue a call already started reach the glue through what it attached to
 * the call ({@link Step}).
 */
public class RetryGlue {

    /** The glue of an id no client registered: nothing is retried. */
    static final RetryGlue NONE = new RetryGlue();

    /** A request begins ({@code retryStart}); the call to continue, or null when not retried. */
    public Object start(Object request, Object target) throws IOException {
        return null;
    }

    /** The client decides what to send after {@code response} ({@code retryFollowUp}). */
    public Object followUp(Object response, Object followUp) throws IOException {
        return followUp;
    }

    /** A connect with a fresh socket begins ({@code connectRetryStart}); null when not retried. */
    public Object connectStart(Object target, int port, Object connectTimeout) throws IOException {
        return null;
    }

    /** The body handler to use for a request being sent ({@code retryHandler}). */
    public Object handler(Object sender, Object request, Object handler, Object pushPromiseHandler) {
        return handler;
    }

    /** The future to give the caller for {@code future} ({@code retryResult}). */
    public Object result(Object handler, Object future) {
        return future;
    }

    /**
     * What a client's glue attaches to a call it started ({@link RetryCall#attachment}), so that
     * the hooks continuing the call reach that client's glue. By default, the request is over.
     */
    public interface Step {

        /** {@code retryResponse}: the attempt ended with {@code response} or {@code thrown}; true to run it again. */
        default boolean response(RetryCall call, Object response, Throwable thrown) throws IOException {
            call.end();
            return false;
        }

        /** {@code retryReceived}: the attempt ended in an error with the response in parts; true to run it again. */
        default boolean received(RetryCall call, Object connection, int status, Object headers, Object input,
                                 Object error, boolean credentials, Throwable thrown) throws IOException {
            call.end();
            return false;
        }

        /** {@code retryEnd}: the request is over. */
        default void end(RetryCall call) {
            call.end();
        }
    }
}

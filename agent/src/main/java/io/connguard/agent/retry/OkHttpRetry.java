package io.connguard.agent.retry;

import io.connguard.agent.core.RetryCall;
import io.connguard.bootstrap.ConnGuardHooks;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Retries of refused responses for OkHttp (3.14, 4, 5), through its own follow-up loop in
 * {@code RetryAndFollowUpInterceptor}: the interceptor's run is the request
 * ({@code intercept}), and when it asks {@code followUpRequest} what to send after a refused
 * response, the answer becomes the same request again after the wait. OkHttp then closes the
 * refused response (read to its end here, so its connection is reused) and sends it, keeping the
 * refused attempts as {@code priorResponse}, as it does for its own follow-ups.
 */
final class OkHttpRetry {

    /** Marks the calls of this glue, whose end also leaves the thread's stack. */
    static final Object MARK = new Object();
    /** OkHttp's own limit on follow-ups per call ({@code MAX_FOLLOW_UPS}). */
    private static final int MAX_FOLLOW_UPS = 20;

    private static final Lib.Fn REQUEST = new Lib.Fn("request", 0);
    private static final Lib.Fn URL = new Lib.Fn("url", 0);
    private static final Lib.Fn METHOD = new Lib.Fn("method", 0);
    private static final Lib.Fn BODY = new Lib.Fn("body", 0);
    private static final Lib.Fn IS_ONE_SHOT = new Lib.Fn("isOneShot", 0);
    private static final Lib.Fn CALL = new Lib.Fn("call", 0);
    private static final Lib.Fn TIMEOUT = new Lib.Fn("timeout", 0);
    private static final Lib.Fn TIMEOUT_NANOS = new Lib.Fn("timeoutNanos", 0);
    private static final Lib.Fn HOST = new Lib.Fn("host", 0);
    private static final Lib.Fn PORT = new Lib.Fn("port", 0);
    private static final Lib.Fn CODE = new Lib.Fn("code", 0);

    private final Retries retries;

    OkHttpRetry(Retries retries) {
        this.retries = retries;
    }

    /** {@code RetryAndFollowUpInterceptor.intercept(chain)} begins. */
    RetryCall start(Object chain) throws IOException {
        if (!retries.enabled() || chain == null) {
            return null;
        }
        Object request = REQUEST.call(chain);
        Object url = URL.call(request);
        String method = METHOD.string(request);
        Object body = BODY.call(request);
        boolean replayable = body == null || !Boolean.TRUE.equals(IS_ONE_SHOT.call(body));
        long deadline = 0;
        Object nanos = TIMEOUT_NANOS.call(TIMEOUT.call(CALL.call(chain)));
        if (nanos instanceof Long && (Long) nanos > 0) {
            deadline = System.nanoTime() + (Long) nanos;
        }
        RetryCall call = retries.start(ConnGuardHooks.POOL_OKHTTP, HOST.string(url), PORT.integer(url, -1),
                method, replayable, deadline, true);
        if (call != null) {
            call.attachment = MARK;
            retries.okHttpCalls.get().addLast(call);
        }
        return call;
    }

    /** The interceptor's run is over. */
    void end(RetryCall call) {
        ArrayDeque<RetryCall> calls = retries.okHttpCalls.get();
        calls.removeLastOccurrence(call);
        call.end();
    }

    /** {@code followUpRequest(response, …)} returned {@code followUp}: the request to send next. */
    Object followUp(Object response, Object followUp) throws IOException {
        RetryCall call = retries.okHttpCalls.get().peekLast();
        if (call == null || response == null) {
            return followUp;
        }
        int status = CODE.integer(response, -1);
        if (!retries.mayBeRefusal(call, status) || (status == 401 && followUp != null)) {
            return followUp; // a 401 the application's Authenticator answered is its business
        }
        Object request = Lib.call(response, "request");
        Object url = Lib.call(request, "url");
        if (!call.host().key().host().equalsIgnoreCase(String.valueOf(Lib.string(url, "host")))
                || call.host().key().port() != Lib.integer(url, "port", -1)) {
            return followUp; // answered by a redirect's target: not the host this request is counted for
        }
        int prior = 0;
        for (Object p = Lib.call(response, "priorResponse"); p != null && prior < MAX_FOLLOW_UPS; p = Lib.call(p, "priorResponse")) {
            prior++;
        }
        if (prior + 1 >= MAX_FOLLOW_UPS) {
            return followUp; // OkHttp would refuse another follow-up and throw instead of answering
        }
        boolean credentials = Lib.call(request, "header", "Authorization") != null;
        String challenge = Lib.string(response, "header", "WWW-Authenticate");
        String body = null;
        if (retries.needsBody(call, status, credentials, challenge)) {
            body = Lib.string(Lib.call(response, "peekBody", (long) Lib.PEEK_LIMIT), "string");
        }
        if (!retries.isRefusal(call, status, credentials, challenge, body)) {
            return followUp;
        }
        long wait = call.refused(status, Lib.string(response, "header", "Retry-After"));
        if (wait < 0) {
            return followUp;
        }
        Object responseBody = Lib.call(response, "body");
        if (responseBody != null) {
            Lib.drain((InputStream) Lib.call(responseBody, "byteStream"));
        }
        RetryCall.pause(wait);
        return request;
    }
}

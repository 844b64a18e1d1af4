package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.core.RetryCall;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.retry.Retries;
import io.connguard.agent.retry.RetryGlue;
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
 *
 * <p>Refused connects are retried in {@code RealConnection.connectSocket}, on the call's last
 * route only.
 */
final class OkHttpRetry extends RetryGlue {

    /** Marks the calls of this glue, whose end also leaves the thread's stack. */
    private final RetryGlue.Step mark = new RetryGlue.Step() {
        @Override
        public void end(RetryCall call) {
            OkHttpRetry.this.end(call);
        }
    };
    /** OkHttp's own limit on follow-ups per call ({@code MAX_FOLLOW_UPS}). */
    private static final int MAX_FOLLOW_UPS = 20;

    private static final LibraryObjects.Fn REQUEST = new LibraryObjects.Fn("request", 0);
    private static final LibraryObjects.Fn URL = new LibraryObjects.Fn("url", 0);
    private static final LibraryObjects.Fn METHOD = new LibraryObjects.Fn("method", 0);
    private static final LibraryObjects.Fn BODY = new LibraryObjects.Fn("body", 0);
    private static final LibraryObjects.Fn IS_ONE_SHOT = new LibraryObjects.Fn("isOneShot", 0);
    private static final LibraryObjects.Fn CALL = new LibraryObjects.Fn("call", 0);
    private static final LibraryObjects.Fn TIMEOUT = new LibraryObjects.Fn("timeout", 0);
    private static final LibraryObjects.Fn TIMEOUT_NANOS = new LibraryObjects.Fn("timeoutNanos", 0);
    private static final LibraryObjects.Fn HOST = new LibraryObjects.Fn("host", 0);
    private static final LibraryObjects.Fn PORT = new LibraryObjects.Fn("port", 0);
    private static final LibraryObjects.Fn CODE = new LibraryObjects.Fn("code", 0);
    private static final LibraryObjects.FieldFn EXCHANGE_FINDER = new LibraryObjects.FieldFn("exchangeFinder");
    private static final LibraryObjects.FieldFn ROUTE_SELECTION = new LibraryObjects.FieldFn("routeSelection");
    private static final LibraryObjects.FieldFn ROUTE_SELECTOR = new LibraryObjects.FieldFn("routeSelector");

    private final Retries retries;
    /** OkHttp's calls in progress on this thread, innermost last (one interceptor run each). */
    private final ThreadLocal<ArrayDeque<RetryCall>> calls = ThreadLocal.withInitial(ArrayDeque::new);

    OkHttpRetry(Retries retries) {
        this.retries = retries;
    }

    /** {@code RetryAndFollowUpInterceptor.intercept(chain)} begins. */
    @Override
    public Object start(Object unused, Object chain) throws IOException {
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
        RetryCall call = retries.start(ConnGuardHooks.CLIENT_OKHTTP, HOST.string(url), PORT.integer(url, -1),
                method, replayable, deadline, true);
        if (call != null) {
            call.attachment = mark;
            calls.get().addLast(call);
        }
        return call;
    }

    /** The interceptor's run is over. */
    private void end(RetryCall call) {
        calls.get().removeLastOccurrence(call);
        call.end();
    }

    /** {@code followUpRequest(response, …)} returned {@code followUp}: the request to send next. */
    @Override
    public Object followUp(Object response, Object followUp) throws IOException {
        RetryCall call = calls.get().peekLast();
        if (call == null || response == null) {
            return followUp;
        }
        int status = CODE.integer(response, -1);
        if (!retries.mayBeRefusal(call, status) || (status == 401 && followUp != null)) {
            return followUp; // a 401 the application's Authenticator answered is its business
        }
        Object request = LibraryObjects.call(response, "request");
        Object url = LibraryObjects.call(request, "url");
        if (!call.host().key().host().equalsIgnoreCase(String.valueOf(LibraryObjects.string(url, "host")))
                || call.host().key().port() != LibraryObjects.integer(url, "port", -1)) {
            return followUp; // answered by a redirect's target: not the host this request is counted for
        }
        int prior = 0;
        for (Object p = LibraryObjects.call(response, "priorResponse"); p != null && prior < MAX_FOLLOW_UPS; p = LibraryObjects.call(p, "priorResponse")) {
            prior++;
        }
        if (prior + 1 >= MAX_FOLLOW_UPS) {
            return followUp; // OkHttp would refuse another follow-up and throw instead of answering
        }
        boolean credentials = LibraryObjects.call(request, "header", "Authorization") != null;
        String challenge = LibraryObjects.string(response, "header", "WWW-Authenticate");
        String body = null;
        if (retries.needsBody(call, status, credentials, challenge)) {
            body = LibraryObjects.string(LibraryObjects.call(response, "peekBody", (long) LibraryObjects.PEEK_LIMIT), "string");
        }
        if (!retries.isRefusal(call, status, credentials, challenge, body)) {
            return followUp;
        }
        long wait = call.refused(status, LibraryObjects.string(response, "header", "Retry-After"));
        if (wait < 0) {
            return followUp;
        }
        Object responseBody = LibraryObjects.call(response, "body");
        if (responseBody != null) {
            LibraryObjects.drain((InputStream) LibraryObjects.call(responseBody, "byteStream"));
        }
        RetryCall.pause(wait);
        return request;
    }

    /**
     * {@code RealConnection.connectSocket}, {@code target} = {connection, call}: retried only on
     * the call's last route, so a refusing address never delays OkHttp's own move to the next
     * address or proxy.
     */
    @Override
    public Object connectStart(Object target, int port, Object connectTimeout) throws IOException {
        if (!(target instanceof Object[])) {
            return null;
        }
        Object connection = ((Object[]) target)[0];
        Object realCall = ((Object[]) target)[1];
        Object finder = realCall == null ? null : EXCHANGE_FINDER.read(realCall);
        if (finder != null) {
            Object selection = ROUTE_SELECTION.read(finder);
            Object selector = ROUTE_SELECTOR.read(finder);
            if (Boolean.TRUE.equals(LibraryObjects.call(selection, "hasNext"))
                    || Boolean.TRUE.equals(LibraryObjects.call(selector, "hasNext"))) {
                return null;
            }
        }
        Object url = LibraryObjects.call(LibraryObjects.call(LibraryObjects.call(connection, "route"), "address"), "url");
        long timeout = connectTimeout instanceof Number ? ((Number) connectTimeout).longValue() : 0;
        return retries.connectStart(ConnGuardHooks.CLIENT_OKHTTP, LibraryObjects.string(url, "host"),
                LibraryObjects.integer(url, "port", -1), timeout);
    }
}

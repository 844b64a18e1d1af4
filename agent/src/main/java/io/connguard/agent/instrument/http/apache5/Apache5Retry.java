package io.connguard.agent.instrument.http.apache5;

import io.connguard.agent.core.RetryCall;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.retry.Retries;
import io.connguard.agent.retry.RetryGlue;
import io.connguard.bootstrap.ConnGuardHooks;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;

/**
 * Retries of refused responses for Apache HttpClient 5, around {@code ProtocolExec.execute}: the
 * step of the client's execution chain that its own retry step ({@code HttpRequestRetryExec})
 * also runs again.
 * A refused attempt's entity is read to its end (which gives the connection back to the pool),
 * the response closed, the request's headers put back as they were when the step began (the
 * step adds cookies and credentials again), and the step runs once more.
 *
 * <p>When the retries end and the refusal is passed on, the execution is marked in its context;
 * if the client's own retry step (the default {@code HttpRequestRetryExec}) then sends the
 * request again, that attempt is passed through without retries of ours, so the two never
 * multiply.
 */
final class Apache5Retry extends RetryGlue {

    /** The request being executed and its headers as they were before the first attempt. */
    static final class Request implements RetryGlue.Step {
        final Apache5Retry glue;
        final Object request;
        final Object headers;
        /** The execution's context, and what identifies the execution in it (the scope). */
        final Object context;
        final Object execution;

        Request(Apache5Retry glue, Object request, Object headers, Object context, Object execution) {
            this.glue = glue;
            this.request = request;
            this.headers = headers;
            this.context = context;
            this.execution = execution;
        }

        @Override
        public boolean response(RetryCall call, Object response, Throwable thrown) throws IOException {
            return glue.response(call, response, thrown);
        }
    }

    /** Context attribute naming the execution whose refusal was passed on after our retries. */
    static final String PASSED_ON = "io.connguard.retry.passed-on";

    private static final LibraryObjects.FieldFn ROUTE = new LibraryObjects.FieldFn("route");
    private static final LibraryObjects.FieldFn CLIENT_CONTEXT = new LibraryObjects.FieldFn("clientContext");
    private static final LibraryObjects.Fn GET_TARGET_HOST = new LibraryObjects.Fn("getTargetHost", 0);
    private static final LibraryObjects.Fn GET_HOST_NAME = new LibraryObjects.Fn("getHostName", 0);
    private static final LibraryObjects.Fn GET_PORT = new LibraryObjects.Fn("getPort", 0);
    private static final LibraryObjects.Fn GET_SCHEME_NAME = new LibraryObjects.Fn("getSchemeName", 0);
    private static final LibraryObjects.Fn GET_METHOD = new LibraryObjects.Fn("getMethod", 0);
    private static final LibraryObjects.Fn GET_ENTITY = new LibraryObjects.Fn("getEntity", 0);
    private static final LibraryObjects.Fn IS_REPEATABLE = new LibraryObjects.Fn("isRepeatable", 0);
    private static final LibraryObjects.Fn GET_HEADERS = new LibraryObjects.Fn("getHeaders", 0);
    private static final LibraryObjects.Fn GET_ATTRIBUTE = new LibraryObjects.Fn("getAttribute", 1);
    private static final LibraryObjects.Fn GET_CODE = new LibraryObjects.Fn("getCode", 0);

    private final Retries retries;

    Apache5Retry(Retries retries) {
        this.retries = retries;
    }

    /**
     * {@code execute(ClassicHttpRequest request, ExecChain.Scope scope, …)}, {@code target} = scope.
     */
    @Override
    public Object start(Object request, Object target) throws IOException {
        if (!retries.enabled() || request == null || target == null) {
            return null;
        }
        Object route = ROUTE.read(target);
        Object context = CLIENT_CONTEXT.read(target);
        Object execution = target;
        if (context != null && GET_ATTRIBUTE.call(context, PASSED_ON) == execution) {
            return null; // the client's own retry of a refusal we passed on: one attempt, as the client wants
        }
        Object host = GET_TARGET_HOST.call(route);
        if (host == null) {
            return null;
        }
        String name = GET_HOST_NAME.string(host);
        int port = Retries.port(GET_PORT.integer(host, -1), GET_SCHEME_NAME.string(host));
        String method = GET_METHOD.string(request);
        Object entity = GET_ENTITY.call(request);
        boolean replayable = entity == null || Boolean.TRUE.equals(IS_REPEATABLE.call(entity));
        RetryCall call = retries.start(ConnGuardHooks.CLIENT_APACHE5, name, port, method, replayable, 0, true);
        if (call != null) {
            call.attachment = new Request(this, request, GET_HEADERS.call(request), context, execution);
        }
        return call;
    }

    /**
     * {@code DefaultHttpClientConnectionOperator.connect}: the target {@code HttpHost}, its
     * connect {@code Timeout}.
     */
    @Override
    public Object connectStart(Object host, int port, Object connectTimeout) throws IOException {
        Object millis = connectTimeout instanceof Number ? connectTimeout
                : LibraryObjects.call(connectTimeout, "toMilliseconds");
        long timeout = millis instanceof Number ? ((Number) millis).longValue() : 0;
        return retries.connectStart(ConnGuardHooks.CLIENT_APACHE5, GET_HOST_NAME.string(host),
                Retries.port(GET_PORT.integer(host, -1), GET_SCHEME_NAME.string(host)), timeout);
    }

    /** The step returned {@code response} or threw; true to run it again. */
    boolean response(RetryCall call, Object response, Throwable thrown) throws IOException {
        if (thrown != null || response == null) {
            call.end();
            return false;
        }
        Request r = (Request) call.attachment;
        int status = GET_CODE.integer(response, -1);
        if (!retries.mayBeRefusal(call, status)) {
            call.end();
            return false;
        }
        boolean credentials = Boolean.TRUE.equals(LibraryObjects.call(r.request, "containsHeader", "Authorization"));
        String challenge = header(response, "WWW-Authenticate");
        String body = retries.needsBody(call, status, credentials, challenge) ? peek(response) : null;
        if (!retries.isRefusal(call, status, credentials, challenge, body)) {
            call.end();
            return false;
        }
        long wait = call.refused(status, header(response, "Retry-After"));
        if (wait < 0) {
            if (r.context != null && call.attempts() > 1) {
                LibraryObjects.call(r.context, "setAttribute", PASSED_ON, r.execution);
            }
            call.end();
            return false;
        }
        Object entity = LibraryObjects.call(response, "getEntity");
        if (entity != null) {
            LibraryObjects.drain((InputStream) LibraryObjects.call(entity, "getContent"));
        }
        if (response instanceof Closeable) {
            ((Closeable) response).close();
        }
        if (r.headers != null) {
            LibraryObjects.call(r.request, "setHeaders", r.headers);
        }
        RetryCall.pause(wait);
        return true;
    }

    private static String header(Object message, String name) throws IOException {
        return LibraryObjects.string(LibraryObjects.call(message, "getFirstHeader", name), "getValue");
    }

    /**
     * The start of a small 401 body, leaving the body in place for the caller: the entity is
     * replaced by the library's own {@code BufferedHttpEntity} of it. Null when the body is
     * larger than {@link LibraryObjects#PEEK_LIMIT} or of unknown length.
     */
    private String peek(Object response) throws IOException {
        Object entity = LibraryObjects.call(response, "getEntity");
        Object length = LibraryObjects.call(entity, "getContentLength");
        if (!(length instanceof Long) || (Long) length < 0 || (Long) length > LibraryObjects.PEEK_LIMIT) {
            return null;
        }
        Method setEntity = LibraryObjects.method(response.getClass(), "setEntity", 1);
        if (setEntity == null) {
            return null;
        }
        Class<?> entityType = setEntity.getParameterTypes()[0];
        String buffered = entityType.getPackageName() + ".io.entity.BufferedHttpEntity";
        Object copy;
        try {
            Class<?> type = Class.forName(buffered, false, entityType.getClassLoader());
            Constructor<?> make = type.getConstructor(entityType);
            copy = make.newInstance(entity);
        } catch (ReflectiveOperationException e) {
            return null;
        }
        LibraryObjects.call(response, "setEntity", copy);
        try (InputStream in = (InputStream) LibraryObjects.call(copy, "getContent")) {
            return LibraryObjects.text(in == null ? null : in.readNBytes(LibraryObjects.PEEK_LIMIT));
        }
    }
}

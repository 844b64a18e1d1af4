package io.connguard.agent.retry;

import io.connguard.agent.core.RetryCall;
import io.connguard.bootstrap.ConnGuardHooks;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;

/**
 * Retries of refused responses for Apache HttpClient 4 (also relocated copies, as Maven's) and
 * 5, around {@code ProtocolExec.execute}: the step of the client's execution chain that its own
 * retry steps ({@code ServiceUnavailableRetryExec}, {@code HttpRequestRetryExec}) also run again.
 * A refused attempt's entity is read to its end (which gives the connection back to the pool),
 * the response closed, the request's headers put back as they were when the step began (the
 * step adds cookies and credentials again), and the step runs once more.
 *
 * <p>When the retries end and the refusal is passed on, the execution is marked in its context;
 * if the client's own retry step (Apache 5's default {@code HttpRequestRetryExec}, Apache 4's
 * {@code ServiceUnavailableRetryExec}, as Maven configures it) then sends the request again,
 * that attempt is passed through without retries of ours, so the two never multiply.
 */
final class ApacheRetry {

    /** The request being executed and its headers as they were before the first attempt. */
    static final class Request {
        final ApacheRetry glue;
        final Object request;
        final Object headers;
        /** The execution's context, and what identifies the execution in it (scope or request wrapper). */
        final Object context;
        final Object execution;

        Request(ApacheRetry glue, Object request, Object headers, Object context, Object execution) {
            this.glue = glue;
            this.request = request;
            this.headers = headers;
            this.context = context;
            this.execution = execution;
        }
    }

    /** Context attribute naming the execution whose refusal was passed on after our retries. */
    static final String PASSED_ON = "io.connguard.retry.passed-on";

    private static final Lib.FieldFn ROUTE = new Lib.FieldFn("route");
    private static final Lib.FieldFn CLIENT_CONTEXT = new Lib.FieldFn("clientContext");
    private static final Lib.Fn GET_TARGET_HOST = new Lib.Fn("getTargetHost", 0);
    private static final Lib.Fn GET_HOST_NAME = new Lib.Fn("getHostName", 0);
    private static final Lib.Fn GET_PORT = new Lib.Fn("getPort", 0);
    private static final Lib.Fn GET_SCHEME_NAME = new Lib.Fn("getSchemeName", 0);
    private static final Lib.Fn GET_METHOD = new Lib.Fn("getMethod", 0);
    private static final Lib.Fn GET_ENTITY = new Lib.Fn("getEntity", 0);
    private static final Lib.Fn IS_REPEATABLE = new Lib.Fn("isRepeatable", 0);
    private static final Lib.Fn GET_HEADERS = new Lib.Fn("getHeaders", 0);
    private static final Lib.Fn GET_ALL_HEADERS = new Lib.Fn("getAllHeaders", 0);
    private static final Lib.Fn GET_ATTRIBUTE = new Lib.Fn("getAttribute", 1);
    private static final Lib.Fn GET_CODE = new Lib.Fn("getCode", 0);
    private static final Lib.Fn GET_STATUS_LINE = new Lib.Fn("getStatusLine", 0);
    private static final Lib.Fn GET_STATUS_CODE = new Lib.Fn("getStatusCode", 0);

    private final Retries retries;
    private final boolean five;

    ApacheRetry(Retries retries, boolean five) {
        this.retries = retries;
        this.five = five;
    }

    /**
     * Apache 4: {@code execute(HttpRoute route, HttpRequestWrapper request, HttpClientContext
     * context, …)}, {@code target} = {route, context}; Apache 5: {@code execute(ClassicHttpRequest
     * request, ExecChain.Scope scope, …)}, {@code target} = scope.
     */
    RetryCall start(Object request, Object target) throws IOException {
        if (!retries.enabled() || request == null || target == null) {
            return null;
        }
        Object route;
        Object context;
        Object execution;
        if (five) {
            route = ROUTE.read(target);
            context = CLIENT_CONTEXT.read(target);
            execution = target;
        } else {
            Object[] routeAndContext = (Object[]) target;
            route = routeAndContext[0];
            context = routeAndContext[1];
            execution = request;
        }
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
        RetryCall call = retries.start(five ? ConnGuardHooks.POOL_APACHE5 : ConnGuardHooks.POOL_APACHE4, name, port,
                method, replayable, 0, true);
        if (call != null) {
            call.attachment = new Request(this, request, (five ? GET_HEADERS : GET_ALL_HEADERS).call(request),
                    context, execution);
        }
        return call;
    }

    /** The step returned {@code response} or threw; true to run it again. */
    boolean response(RetryCall call, Object response, Throwable thrown) throws IOException {
        if (thrown != null || response == null) {
            call.end();
            return false;
        }
        Request r = (Request) call.attachment;
        int status = five ? GET_CODE.integer(response, -1) : GET_STATUS_CODE.integer(GET_STATUS_LINE.call(response), -1);
        if (!retries.mayBeRefusal(call, status)) {
            call.end();
            return false;
        }
        boolean credentials = Boolean.TRUE.equals(Lib.call(r.request, "containsHeader", "Authorization"));
        String challenge = header(response, "WWW-Authenticate");
        String body = retries.needsBody(call, status, credentials, challenge) ? peek(response) : null;
        if (!retries.isRefusal(call, status, credentials, challenge, body)) {
            call.end();
            return false;
        }
        long wait = call.refused(status, header(response, "Retry-After"));
        if (wait < 0) {
            if (r.context != null && call.attempts() > 1) {
                Lib.call(r.context, "setAttribute", PASSED_ON, r.execution);
            }
            call.end();
            return false;
        }
        Object entity = Lib.call(response, "getEntity");
        if (entity != null) {
            Lib.drain((InputStream) Lib.call(entity, "getContent"));
        }
        if (response instanceof Closeable) {
            ((Closeable) response).close();
        }
        if (r.headers != null) {
            Lib.call(r.request, "setHeaders", r.headers);
        }
        RetryCall.pause(wait);
        return true;
    }

    private static String header(Object message, String name) throws IOException {
        return Lib.string(Lib.call(message, "getFirstHeader", name), "getValue");
    }

    /**
     * The start of a small 401 body, leaving the body in place for the caller: the entity is
     * replaced by the library's own {@code BufferedHttpEntity} of it. Null when the body is
     * larger than {@link Lib#PEEK_LIMIT} or of unknown length.
     */
    private String peek(Object response) throws IOException {
        Object entity = Lib.call(response, "getEntity");
        Object length = Lib.call(entity, "getContentLength");
        if (!(length instanceof Long) || (Long) length < 0 || (Long) length > Lib.PEEK_LIMIT) {
            return null;
        }
        Method setEntity = Lib.method(response.getClass(), "setEntity", 1);
        if (setEntity == null) {
            return null;
        }
        Class<?> entityType = setEntity.getParameterTypes()[0];
        String buffered = entityType.getPackageName() + (five ? ".io.entity.BufferedHttpEntity" : ".entity.BufferedHttpEntity");
        Object copy;
        try {
            Class<?> type = Class.forName(buffered, false, entityType.getClassLoader());
            Constructor<?> make = type.getConstructor(entityType);
            copy = make.newInstance(entity);
        } catch (ReflectiveOperationException e) {
            return null;
        }
        Lib.call(response, "setEntity", copy);
        try (InputStream in = (InputStream) Lib.call(copy, "getContent")) {
            return Lib.text(in == null ? null : in.readNBytes(Lib.PEEK_LIMIT));
        }
    }
}

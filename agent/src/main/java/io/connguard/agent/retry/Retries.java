package io.connguard.agent.retry;

import io.connguard.ConnectionLimitException;
import io.connguard.agent.config.AgentConfig;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.RetryCall;
import io.connguard.agent.core.RetryPolicy;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;
import io.connguard.bootstrap.ConnGuardHooks;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The retry side of the agent: one {@link RetryPolicy} from the configuration, the client glue
 * that applies it to each supported client, and the log lines. The {@code HookBridge} hands every
 * retry hook here.
 */
public final class Retries {

    private static final Lib.FieldFn EXCHANGE_FINDER = new Lib.FieldFn("exchangeFinder");
    private static final Lib.FieldFn ROUTE_SELECTION = new Lib.FieldFn("routeSelection");
    private static final Lib.FieldFn ROUTE_SELECTOR = new Lib.FieldFn("routeSelector");

    private final RetryPolicy policy;
    private final Governor governor;
    private final ApacheRetry apache4 = new ApacheRetry(this, false);
    private final ApacheRetry apache5 = new ApacheRetry(this, true);
    private final OkHttpRetry okHttp = new OkHttpRetry(this);
    private final UrlConnectionRetry urlConnection = new UrlConnectionRetry(this);
    private final JdkHttpClientRetry httpClient = new JdkHttpClientRetry(this);
    /** OkHttp's calls in progress on this thread, innermost last (one interceptor run each). */
    final ThreadLocal<ArrayDeque<RetryCall>> okHttpCalls = ThreadLocal.withInitial(ArrayDeque::new);

    public Retries(AgentConfig config, Governor governor) {
        this.governor = governor;
        this.policy = new RetryPolicy(config.retryMaxAttempts(), config::retryStatus, config.retryMethods(),
                config.retryBackoffMillis(), config.retryMaxBackoffMillis(), config.retryAfterMaxMillis(),
                config.retryBudgetPercent(), config::registryHost, new LogListener(config.retryBudgetPercent()));
    }

    public boolean enabled() {
        return policy.enabled();
    }

    /** Starts a request or connect to {@code host:port} under the policy; null when retries are off. */
    RetryCall start(int client, String host, int port, String method, boolean replayable, long deadlineNanos,
                    boolean counted) {
        if (!policy.enabled() || host == null || host.isEmpty() || port <= 0) {
            return null;
        }
        HostState h = governor.host(host, port);
        return policy.start(h, clientName(client), method, replayable, deadlineNanos, counted);
    }

    /** {@code https} → 443, anything else → 80, when a URL names no port. */
    static int port(int port, String scheme) {
        if (port > 0) {
            return port;
        }
        return "https".equalsIgnoreCase(scheme) || "wss".equalsIgnoreCase(scheme) ? 443 : 80;
    }

    /**
     * Whether a response with {@code status} could be a refusal at all: one of the retried
     * statuses, or a 401 (decided by {@link #isRefusal} from the headers). The cheap first test on
     * every response.
     */
    boolean mayBeRefusal(RetryCall call, int status) {
        return (status == 401 || policy.retriesStatus(status)) && call.responsesRetryable();
    }

    /**
     * Whether a response is a refusal that {@code call} may retry. {@code challenge}: the
     * {@code WWW-Authenticate} value; {@code body}: the first few KB of a 401's body or null.
     */
    boolean isRefusal(RetryCall call, int status, boolean credentials, String challenge, String body) {
        if (!call.responsesRetryable()) {
            return false;
        }
        if (policy.retriesStatus(status)) {
            return true;
        }
        return status == 401 && policy.registryRefusal(call.host().key().host(), call.host().key().port(),
                credentials, challenge, body);
    }

    /**
     * Whether a 401 needs its body read to decide: a registry host, credentials sent, and a
     * challenge present (without a challenge it is a refusal already).
     */
    boolean needsBody(RetryCall call, int status, boolean credentials, String challenge) {
        return status == 401 && credentials && call.responsesRetryable() && !policy.retriesStatus(401)
                && RetryPolicy.usableChallenge(challenge)
                && policy.isRegistry(call.host().key().host(), call.host().key().port());
    }

    /** A failure of a connect that no byte was sent on and that may be retried. */
    static boolean connectRefusal(Throwable thrown) {
        if (thrown == null) {
            return false;
        }
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof ConnectionLimitException) {
                return false; // the agent's own queue timeout: retrying would only wait again
            }
            if (t.getCause() == t) {
                break;
            }
        }
        String message = thrown.getMessage() == null ? "" : thrown.getMessage().toLowerCase(java.util.Locale.ROOT);
        if (thrown instanceof ConnectException) {
            // The operating system's own connect timeout is a timeout, not a refusal.
            return !message.contains("timed out");
        }
        return thrown instanceof SocketException && message.contains("connection reset");
    }

    // --- the hooks, by client -------------------------------------------------------------

    public Object retryStart(int client, Object request, Object target) throws IOException {
        switch (client) {
            case ConnGuardHooks.POOL_APACHE4:
                return apache4.start(request, target);
            case ConnGuardHooks.POOL_APACHE5:
                return apache5.start(request, target);
            case ConnGuardHooks.POOL_OKHTTP:
                return okHttp.start(target);
            case ConnGuardHooks.POOL_JDK_URLCONNECTION:
                return urlConnection.start(request);
            default:
                return null;
        }
    }

    public boolean retryResponse(Object call, Object response, Throwable thrown) throws IOException {
        RetryCall c = (RetryCall) call;
        return c.attachment instanceof ApacheRetry.Request
                ? ((ApacheRetry.Request) c.attachment).glue.response(c, response, thrown)
                : end(c);
    }

    public void retryEnd(Object call) {
        if (call instanceof RetryCall) {
            RetryCall c = (RetryCall) call;
            if (c.attachment == OkHttpRetry.MARK) {
                okHttp.end(c);
            } else {
                c.end();
            }
        }
    }

    public Object retryFollowUp(int client, Object response, Object followUp) throws IOException {
        return client == ConnGuardHooks.POOL_OKHTTP ? okHttp.followUp(response, followUp) : followUp;
    }

    public Object connectRetryStart(int client, Object target, int port, Object connectTimeout) throws IOException {
        if (client == ConnGuardHooks.POOL_OKHTTP && target instanceof Object[]) {
            Object[] connectionAndCall = (Object[]) target;
            return okHttpConnectRetryStart(connectionAndCall[0], connectionAndCall[1], connectTimeout);
        }
        String host;
        int p = port;
        if (target instanceof String) {
            host = (String) target;
        } else if (client == ConnGuardHooks.POOL_OKHTTP) {
            Object url = Lib.call(Lib.call(Lib.call(target, "route"), "address"), "url");
            host = Lib.string(url, "host");
            p = Lib.integer(url, "port", -1);
        } else {
            // Apache HttpClient 4 and 5: an HttpHost
            host = Lib.string(target, "getHostName");
            p = port(Lib.integer(target, "getPort", -1), Lib.string(target, "getSchemeName"));
        }
        long timeout;
        if (connectTimeout instanceof Number) {
            timeout = ((Number) connectTimeout).longValue();
        } else {
            Object millis = Lib.call(connectTimeout, "toMilliseconds");
            timeout = millis instanceof Number ? ((Number) millis).longValue() : 0;
        }
        RetryCall call = start(client, host, p, null, true, 0, false);
        if (call != null) {
            call.connectTimeout(timeout);
        }
        return call;
    }

    /**
     * OkHttp's {@code RealConnection.connectSocket}: retried only on the call's last route, so a
     * refusing address never delays OkHttp's own move to the next address or proxy.
     */
    private Object okHttpConnectRetryStart(Object connection, Object realCall, Object connectTimeout) throws IOException {
        Object finder = realCall == null ? null : EXCHANGE_FINDER.read(realCall);
        if (finder != null) {
            Object selection = ROUTE_SELECTION.read(finder);
            Object selector = ROUTE_SELECTOR.read(finder);
            if (Boolean.TRUE.equals(Lib.call(selection, "hasNext")) || Boolean.TRUE.equals(Lib.call(selector, "hasNext"))) {
                return null;
            }
        }
        return connectRetryStart(ConnGuardHooks.POOL_OKHTTP, connection, -1, connectTimeout);
    }

    public boolean connectRetry(Object call, Throwable thrown) {
        RetryCall c = (RetryCall) call;
        if (connectRefusal(thrown)) {
            long wait = c.connectRefused();
            if (wait >= 0) {
                RetryCall.pause(wait);
                return true;
            }
        }
        c.end();
        return false;
    }

    public Object retryHandler(Object client, Object request, Object handler, Object pushPromiseHandler) {
        return httpClient.handler(client, request, handler, pushPromiseHandler);
    }

    public Object retryResult(Object handler, Object future) {
        return httpClient.result(handler, future);
    }

    public boolean retryUrlConnection(Object call, Object connection, int status, Object responses, Object input,
                                      Object error, boolean credentials, Throwable thrown) throws IOException {
        return urlConnection.response((RetryCall) call, connection, status, responses, input, error, credentials, thrown);
    }

    private static boolean end(RetryCall c) {
        c.end();
        return false;
    }

    static String clientName(int client) {
        switch (client) {
            case ConnGuardHooks.POOL_JDK_URLCONNECTION:
                return "HttpURLConnection";
            case ConnGuardHooks.POOL_JDK_HTTPCLIENT:
                return "java.net.http.HttpClient";
            case ConnGuardHooks.POOL_APACHE4:
                return "Apache HttpClient 4";
            case ConnGuardHooks.POOL_APACHE5:
                return "Apache HttpClient 5";
            case ConnGuardHooks.POOL_OKHTTP:
                return "OkHttp";
            default:
                return "client";
        }
    }

    /** The log lines: one per request whose retries ended refused; budget refusals once a minute per host. */
    private static final class LogListener implements RetryPolicy.Listener {
        private static final long BUDGET_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
        private final int budgetPercent;

        LogListener(int budgetPercent) {
            this.budgetPercent = budgetPercent;
        }

        @Override
        public void exhausted(RetryCall call, RetryCall.GiveUp giveUp) {
            AgentLog.warn(Sentences.retryExhausted(call, giveUp));
        }

        @Override
        public void budgetExceeded(RetryCall call, int retrying, int inFlight) {
            if (!call.host().budgetLogDue(BUDGET_LOG_INTERVAL_NANOS)) {
                return;
            }
            AgentLog.warn("connguard: retry [budget]: " + call.host().key() + ": " + retrying
                    + " of " + inFlight + " requests in flight are already being retried, so refusals are passed on"
                    + " at once (retry budget: " + budgetPercent + "% of requests in flight, at least "
                    + RetryPolicy.MIN_BUDGET + "; CONNGUARD_RETRY_BUDGET=" + budgetPercent + ")");
        }
    }
}

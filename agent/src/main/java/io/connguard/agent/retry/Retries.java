package io.connguard.agent.retry;

import io.connguard.ConnectionLimitException;
import io.connguard.agent.config.AgentConfig;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.RetryCall;
import io.connguard.agent.core.RetryPolicy;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;
import io.connguard.agent.instrument.http.ClientModule;
import io.connguard.agent.instrument.http.Clients;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The retry side of the agent: one {@link RetryPolicy} from the configuration, the steps every
 * client's glue shares, the dispatch of each retry hook to the glue of the client it concerns
 * (its {@link RetryGlue}, from the client's folder), and the log lines. The {@code HookBridge}
 * hands every retry hook here.
 */
public final class Retries {

    private final RetryPolicy policy;
    private final Governor governor;
    /** Each client's glue and name, at the index of its id. */
    private final RetryGlue[] glue;
    private final String[] names;

    public Retries(AgentConfig config, Governor governor, List<ClientModule> clients) {
        this.governor = governor;
        this.policy = new RetryPolicy(config.retryMaxAttempts(), config::retryStatus, config.retryMethods(),
                config.retryBackoffMillis(), config.retryMaxBackoffMillis(), config.retryAfterMaxMillis(),
                config.retryBudgetPercent(), config::registryHost, config::retryHost,
                new LogListener(config.retryBudgetPercent()));
        int bound = Clients.idBound(clients);
        this.names = new String[bound];
        this.glue = new RetryGlue[bound];
        for (ClientModule client : clients) {
            names[client.id()] = client.name();
            glue[client.id()] = client.retry(this);
        }
    }

    public boolean enabled() {
        return policy.enabled();
    }

    /**
     * Starts a request or connect to {@code host:port} under the policy; null when retries are off
     * or the host is not one that is retried ({@link RetryPolicy#retriesHost}).
     */
    public RetryCall start(int client, String host, int port, String method, boolean replayable, long deadlineNanos,
                    boolean counted) {
        if (!policy.enabled() || host == null || host.isEmpty() || port <= 0) {
            return null;
        }
        HostState h = governor.host(host, port);
        if (!policy.retriesHost(h)) {
            return null;
        }
        return policy.start(h, clientName(client), method, replayable, deadlineNanos, counted);
    }

    /** {@code https} → 443, anything else → 80, when a URL names no port. */
    public static int port(int port, String scheme) {
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
    public boolean mayBeRefusal(RetryCall call, int status) {
        return (status == 401 || policy.retriesStatus(status)) && call.responsesRetryable();
    }

    /**
     * Whether a response is a refusal that {@code call} may retry. {@code challenge}: the
     * {@code WWW-Authenticate} value; {@code body}: the first few KB of a 401's body or null.
     */
    public boolean isRefusal(RetryCall call, int status, boolean credentials, String challenge, String body) {
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
    public boolean needsBody(RetryCall call, int status, boolean credentials, String challenge) {
        return status == 401 && credentials && call.responsesRetryable() && !policy.retriesStatus(401)
                && RetryPolicy.usableChallenge(challenge)
                && policy.isRegistry(call.host().key().host(), call.host().key().port());
    }

    /** A failure of a connect that no byte was sent on and that may be retried. */
    public static boolean connectRefusal(Throwable thrown) {
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

    // --- the hooks: by client id to the client's glue, or through what its glue attached to the call

    public Object retryStart(int client, Object request, Object target) throws IOException {
        return glue(client).start(request, target);
    }

    public boolean retryResponse(Object call, Object response, Throwable thrown) throws IOException {
        RetryCall c = (RetryCall) call;
        return c.attachment instanceof RetryGlue.Step
                ? ((RetryGlue.Step) c.attachment).response(c, response, thrown)
                : end(c);
    }

    public void retryEnd(Object call) {
        if (call instanceof RetryCall) {
            RetryCall c = (RetryCall) call;
            if (c.attachment instanceof RetryGlue.Step) {
                ((RetryGlue.Step) c.attachment).end(c);
            } else {
                c.end();
            }
        }
    }

    public Object retryFollowUp(int client, Object response, Object followUp) throws IOException {
        return glue(client).followUp(response, followUp);
    }

    public Object connectRetryStart(int client, Object target, int port, Object connectTimeout) throws IOException {
        return glue(client).connectStart(target, port, connectTimeout);
    }

    /**
     * Starts a connect to {@code host:port} under the policy, as a client's glue found them;
     * {@code connectTimeoutMillis} is the caller's connect timeout (0: none). Null when not retried.
     */
    public RetryCall connectStart(int client, String host, int port, long connectTimeoutMillis) {
        RetryCall call = start(client, host, port, null, true, 0, false);
        if (call != null) {
            call.connectTimeout(connectTimeoutMillis);
        }
        return call;
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

    public Object retryHandler(int client, Object sender, Object request, Object handler, Object pushPromiseHandler) {
        return glue(client).handler(sender, request, handler, pushPromiseHandler);
    }

    public Object retryResult(int client, Object handler, Object future) {
        return glue(client).result(handler, future);
    }

    public boolean retryReceived(Object call, Object connection, int status, Object headers, Object input,
                                 Object error, boolean credentials, Throwable thrown) throws IOException {
        RetryCall c = (RetryCall) call;
        return c.attachment instanceof RetryGlue.Step
                ? ((RetryGlue.Step) c.attachment).received(c, connection, status, headers, input, error, credentials,
                        thrown)
                : end(c);
    }

    private static boolean end(RetryCall c) {
        c.end();
        return false;
    }

    private RetryGlue glue(int client) {
        RetryGlue g = client >= 0 && client < glue.length ? glue[client] : null;
        return g == null ? RetryGlue.NONE : g;
    }

    /** How reports name {@code client}: its module's name. */
    private String clientName(int client) {
        String name = client >= 0 && client < names.length ? names[client] : null;
        return name == null ? "client" : name;
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
            AgentLog.warn(Sentences.retryBudgetExceeded(call.host(), retrying, inFlight, budgetPercent,
                    RetryPolicy.MIN_BUDGET));
        }
    }
}

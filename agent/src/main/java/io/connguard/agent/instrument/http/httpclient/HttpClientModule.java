package io.connguard.agent.instrument.http.httpclient;

import io.connguard.agent.core.Governor;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.agent.instrument.http.CallSites;
import io.connguard.agent.instrument.http.ClientModule;
import io.connguard.agent.instrument.http.PoolAdapter;
import io.connguard.agent.retry.Retries;
import io.connguard.agent.retry.RetryGlue;
import io.connguard.bootstrap.ConnGuardHooks;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code java.net.http.HttpClient} (JDK 11 to 25), sync and async. */
public final class HttpClientModule implements ClientModule {

    private static final String SELECTOR = "jdk.internal.net.http.HttpClientImpl$SelectorManager";
    private static final String CONNECT = "jdk.internal.net.http.PlainHttpConnection";
    /** Frames from the connect advice down to connectAsync, with room to spare. */
    private static final int MAX_FRAMES = 24;
    private static final StackWalker WALKER = StackWalker.getInstance();

    /** How reports and log lines name the client. */
    static final String NAME = "java.net.http.HttpClient";

    @Override
    public int id() {
        return ConnGuardHooks.CLIENT_HTTPCLIENT;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<TypeInstrumentation> instrumentations() {
        return List.of(
                new HttpClientPoolInstrumentation(),
                new HttpClientConnectionInstrumentation(),
                new HttpClientExchangeInstrumentation(),
                new HttpClientRequestInstrumentation(),
                HttpClientHandOverInstrumentation.http2Upgrade(),
                HttpClientHandOverInstrumentation.webSocket(),
                // Retries of refused connects and responses.
                new HttpClientRetryInstrumentation(),
                new HttpClientShutdownInstrumentation());
    }

    /** Its pooled connections' channels, close and exchanges ({@code jdk.internal.net.http}). */
    @Override
    public Map<String, Set<String>> jdkPackages() {
        return Map.of("java.net.http", Set.of("jdk.internal.net.http"));
    }

    /**
     * The client's {@code SelectorManager} thread, which also connects in some flows (a redirect
     * followed with a direct executor).
     */
    @Override
    public boolean onEventLoop(Thread thread) {
        return thread.getClass().getName().equals(SELECTOR);
    }

    /**
     * The client (JDK 11 to 25) makes a non-blocking connect from
     * {@code PlainHttpConnection.connectAsync}, normally on one of its executor threads, where
     * waiting is what a blocking client would do.
     */
    @Override
    public boolean mayWaitNonBlocking() {
        return WALKER.walk(frames -> frames.limit(MAX_FRAMES).anyMatch(f -> f.getClassName().equals(CONNECT)));
    }

    @Override
    public PoolAdapter pool(Governor governor, CallSites sites) {
        return new HttpClientPoolAdapter(governor, sites);
    }

    @Override
    public RetryGlue retry(Retries retries) {
        return new HttpClientRetry(retries);
    }
}

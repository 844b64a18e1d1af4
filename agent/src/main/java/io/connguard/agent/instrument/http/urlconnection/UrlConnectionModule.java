package io.connguard.agent.instrument.http.urlconnection;

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

/** {@code HttpURLConnection} (and {@code HttpsURLConnection}) with the JDK's keep-alive cache. */
public final class UrlConnectionModule implements ClientModule {

    /** How reports and log lines name the client. */
    static final String NAME = "HttpURLConnection";

    @Override
    public int id() {
        return ConnGuardHooks.CLIENT_URLCONNECTION;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<TypeInstrumentation> instrumentations() {
        return List.of(
                new UrlConnectionClientInstrumentation(),
                new HttpsUrlConnectionClientInstrumentation(),
                new KeepAliveCacheInstrumentation(),
                // Retries of refused connects and responses.
                new UrlConnectionRetryInstrumentation(),
                new NetworkClientRetryInstrumentation());
    }

    /**
     * The keep-alive cache's socket ({@code sun.net.NetworkClient}, {@code sun.net.www.http}), the
     * response headers and the cookie step of a retried request ({@code sun.net.www},
     * {@code sun.net.www.protocol.http}).
     */
    @Override
    public Map<String, Set<String>> jdkPackages() {
        return Map.of("java.base", Set.of("sun.net", "sun.net.www.http", "sun.net.www", "sun.net.www.protocol.http",
                "sun.security.ssl"));
    }

    @Override
    public PoolAdapter pool(Governor governor, CallSites sites) {
        return new UrlConnectionPoolAdapter(governor);
    }

    @Override
    public RetryGlue retry(Retries retries) {
        return new UrlConnectionRetry(retries);
    }
}

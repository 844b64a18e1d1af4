package io.connguard.agent.instrument.http.apache5;

import io.connguard.agent.core.Governor;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.agent.instrument.http.CallSites;
import io.connguard.agent.instrument.http.ClientModule;
import io.connguard.agent.instrument.http.PoolAdapter;
import io.connguard.agent.retry.Retries;
import io.connguard.agent.retry.RetryGlue;
import io.connguard.bootstrap.ConnGuardHooks;

import java.util.List;

/** Apache HttpClient 5, classic and async. */
public final class Apache5Module implements ClientModule {

    /** How reports and log lines name the client. */
    static final String NAME = "Apache HttpClient 5";

    @Override
    public int id() {
        return ConnGuardHooks.CLIENT_APACHE5;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<TypeInstrumentation> instrumentations() {
        return List.of(
                new Apache5PoolInstrumentation("StrictConnPool"),
                new Apache5PoolInstrumentation("LaxConnPool"),
                new Apache5LeaseWaitInstrumentation(),
                Apache5HandOutInstrumentation.strict(),
                Apache5HandOutInstrumentation.lax(),
                new Apache5EndpointInstrumentation("io.PoolingHttpClientConnectionManager"),
                new Apache5EndpointInstrumentation("nio.PoolingAsyncClientConnectionManager"),
                // Retries of refused connects and responses.
                new Apache5RetryInstrumentation(),
                new Apache5ConnectRetryInstrumentation());
    }

    @Override
    public PoolAdapter pool(Governor governor, CallSites sites) {
        return new Apache5PoolAdapter(governor);
    }

    @Override
    public RetryGlue retry(Retries retries) {
        return new Apache5Retry(retries);
    }
}

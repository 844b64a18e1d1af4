package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.core.Governor;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.agent.instrument.http.CallSites;
import io.connguard.agent.instrument.http.ClientModule;
import io.connguard.agent.instrument.http.PoolAdapter;
import io.connguard.agent.retry.Retries;
import io.connguard.agent.retry.RetryGlue;
import io.connguard.bootstrap.ConnGuardHooks;

import java.util.List;

/** OkHttp 3.14, 4 and 5. */
public final class OkHttpModule implements ClientModule {

    /** How reports and log lines name the client. */
    static final String NAME = "OkHttp";

    @Override
    public int id() {
        return ConnGuardHooks.CLIENT_OKHTTP;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<TypeInstrumentation> instrumentations() {
        return List.of(
                new OkHttpCallInstrumentation("okhttp3.internal.connection.RealCall"),
                new OkHttpCallInstrumentation("okhttp3.internal.connection.Transmitter"),
                new OkHttpPoolInstrumentation(),
                new OkHttpExchangeFinderInstrumentation(),
                new OkHttpWebSocketInstrumentation(),
                // Retries of refused connects and responses.
                new OkHttpRetryInstrumentation(),
                new OkHttpConnectRetryInstrumentation());
    }

    @Override
    public PoolAdapter pool(Governor governor, CallSites sites) {
        return new OkHttpPoolAdapter(governor);
    }

    @Override
    public RetryGlue retry(Retries retries) {
        return new OkHttpRetry(retries);
    }
}

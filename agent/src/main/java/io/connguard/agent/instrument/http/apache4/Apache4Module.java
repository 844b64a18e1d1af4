package io.connguard.agent.instrument.http.apache4;

import io.connguard.agent.core.Governor;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.agent.instrument.http.CallSites;
import io.connguard.agent.instrument.http.ClientModule;
import io.connguard.agent.instrument.http.PoolAdapter;
import io.connguard.agent.retry.Retries;
import io.connguard.agent.retry.RetryGlue;
import io.connguard.bootstrap.ConnGuardHooks;

import java.util.List;

/** Apache HttpClient 4, including copies relocated into other packages (Maven's). */
public final class Apache4Module implements ClientModule {

    /** How reports and log lines name the client. */
    static final String NAME = "Apache HttpClient 4";

    @Override
    public int id() {
        return ConnGuardHooks.CLIENT_APACHE4;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<TypeInstrumentation> instrumentations() {
        return List.of(
                new Apache4PoolInstrumentation(),
                new Apache4LeaseInstrumentation(),
                new Apache4ProxyInstrumentation(),
                // Retries of refused connects and responses.
                new Apache4RetryInstrumentation(),
                new Apache4ConnectRetryInstrumentation());
    }

    @Override
    public PoolAdapter pool(Governor governor, CallSites sites) {
        return new Apache4PoolAdapter(governor);
    }

    @Override
    public RetryGlue retry(Retries retries) {
        return new Apache4Retry(retries);
    }
}

package io.connguard.agent.instrument.http;

import io.connguard.agent.core.Governor;
import io.connguard.agent.instrument.InstrumentationModule;
import io.connguard.agent.retry.Retries;
import io.connguard.agent.retry.RetryGlue;

/**
 * One supported client, everything about it in its own folder {@code instrument/http/<client>/}:
 * its instrumentations, its pool adapter and its retry glue, registered under its id in
 * {@link Clients}. The shared code reaches a client only through this.
 */
public interface ClientModule extends InstrumentationModule {

    /** Its id among {@code ConnGuardHooks.CLIENT_*}: how its advice names it to the hooks. */
    int id();

    /** How reports and log lines name the client: {@code Apache HttpClient 4}. */
    String name();

    /** Its pool adapter: how its pool's connections are seen, handed over, reclaimed and retired. */
    PoolAdapter pool(Governor governor, CallSites sites);

    /** Its retry glue: how the retry policy is applied to its requests and connects. */
    RetryGlue retry(Retries retries);

    /**
     * Whether a connect that would have to wait for a slot runs on this client's event loop,
     * which serves the very connections whose close would free the slot: then it never waits.
     */
    default boolean onEventLoop(Thread thread) {
        return false;
    }

    /**
     * Whether a non-blocking connect that would have to wait for a slot is this client's own, made
     * where waiting is what a blocking client would do (asked only off its event loop).
     */
    default boolean mayWaitNonBlocking() {
        return false;
    }
}

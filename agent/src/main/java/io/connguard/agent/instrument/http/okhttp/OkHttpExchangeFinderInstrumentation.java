package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * OkHttp 4's {@code okhttp3.internal.connection.ExchangeFinder.findConnection(connectTimeout,
 * readTimeout, writeTimeout, pingIntervalMillis, connectionRetryEnabled)}: one search for a
 * connection, on the call's thread, from the pool lookup that may wait
 * ({@link OkHttpPoolInstrumentation}) to the new connection's connect. However it ends, a slot kept
 * for a connect that did not happen (a later lookup found a connection, or it threw first) is given
 * back.
 */
public final class OkHttpExchangeFinderInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "okhttp3.internal.connection.ExchangeFinder";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "FindAdvice").on(named("findConnection").and(takesArguments(5)));
    }

    public static final class FindAdvice {
        private FindAdvice() {
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit() {
            ConnGuardHooks.poolLeaseEnded(ConnGuardHooks.CLIENT_OKHTTP, null);
        }
    }
}

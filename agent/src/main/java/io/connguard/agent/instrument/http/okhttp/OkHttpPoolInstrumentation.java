package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code okhttp3.internal.connection.RealConnectionPool} (OkHttp 3.14 to 5):
 * {@code connectionBecameIdle(connection)} runs when a connection's last call lets go of it,
 * under the connection's lock, before another call can take it: the moment it turns idle. It is
 * first offered to a call of this pool waiting for a connection to its address; handed over, the
 * method is skipped (it returns false: keep the connection, close nothing).
 *
 * <p>OkHttp 4's {@code callAcquirePooledConnection(address, call, routes, requireMultiplexed)}
 * returning false for a call's first lookup ({@code routes} null, any connection): the pool has
 * nothing idle for it. There, holding no lock (each connection's lock is taken and let go inside),
 * the call may wait for a connection of this pool ({@link OkHttpPoolAdapter}); one handed over is
 * acquired for the call, and the lookup returns true as if it had found it. OkHttp 5's lookup
 * (five arguments, returning the connection) is not matched: there a call still waits at connect.
 */
public final class OkHttpPoolInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "okhttp3.internal.connection.RealConnectionPool";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(getClass(), "IdleAdvice").on(named("connectionBecameIdle").and(takesArguments(1))),
                Advices.of(getClass(), "MissAdvice").on(named("callAcquirePooledConnection").and(takesArguments(4))
                        .and(returns(boolean.class))));
    }

    public static final class IdleAdvice {
        private IdleAdvice() {
        }

        /** @return {@code Boolean.TRUE} if handed over (the method is skipped), else the token of pooledIdle */
        @Advice.OnMethodEnter(skipOn = Boolean.class, suppress = Throwable.class)
        public static Object enter(@Advice.This Object pool, @Advice.Argument(0) Object connection) {
            Object token = ConnGuardHooks.pooledIdle(ConnGuardHooks.CLIENT_OKHTTP, connection);
            if (ConnGuardHooks.pooledOffer(ConnGuardHooks.CLIENT_OKHTTP, pool, null, connection)) {
                return Boolean.TRUE;
            }
            return token;
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Enter Object token) {
            if (!(token instanceof Boolean)) {
                ConnGuardHooks.pooledReturned(token);
            }
        }
    }

    public static final class MissAdvice {
        private MissAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.This Object pool, @Advice.Argument(0) Object address,
                                @Advice.Argument(1) Object call, @Advice.Argument(2) Object routes,
                                @Advice.Argument(3) boolean requireMultiplexed,
                                @Advice.Return(readOnly = false) boolean acquired) {
            if (!acquired && routes == null && !requireMultiplexed && ConnGuardHooks.pooledMiss(
                    ConnGuardHooks.CLIENT_OKHTTP, new Object[] {pool, address}, call) != null) {
                acquired = true;
            }
        }
    }
}

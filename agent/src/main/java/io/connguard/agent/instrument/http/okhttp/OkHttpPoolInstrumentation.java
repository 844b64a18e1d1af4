package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code okhttp3.internal.connection.RealConnectionPool} (OkHttp 3.14 to 5):
 * {@code connectionBecameIdle(connection)} runs when a connection's last call lets go of it,
 * under the connection's lock, before another call can take it: the moment it turns idle.
 */
public final class OkHttpPoolInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "okhttp3.internal.connection.RealConnectionPool";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "IdleAdvice").on(named("connectionBecameIdle").and(takesArguments(1)));
    }

    public static final class IdleAdvice {
        private IdleAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.Argument(0) Object connection) {
            return ConnGuardHooks.pooledIdle(ConnGuardHooks.CLIENT_OKHTTP, connection);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Enter Object token) {
            ConnGuardHooks.pooledReturned(token);
        }
    }
}

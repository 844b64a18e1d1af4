package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.agent.instrument.http.RetryAdvice;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * OkHttp 4's {@code RealConnection.connectSocket(connectTimeout, readTimeout, call,
 * eventListener)}: makes a fresh raw socket for its route and connects it; a refused connect is
 * retried by running it again, on the call's last route only (OkHttp tries the next address or
 * proxy itself first).
 */
public final class OkHttpConnectRetryInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "okhttp3.internal.connection.RealConnection";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "Enter", RetryAdvice.Connect.class).on(named("connectSocket").and(takesArguments(4)));
    }

    public static final class Enter {
        private Enter() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.This Object connection, @Advice.Argument(0) int connectTimeout,
                                   @Advice.Argument(2) Object call) {
            return ConnGuardHooks.connectRetryStart(ConnGuardHooks.CLIENT_OKHTTP, new Object[] {connection, call}, -1,
                    Integer.valueOf(connectTimeout));
        }
    }
}

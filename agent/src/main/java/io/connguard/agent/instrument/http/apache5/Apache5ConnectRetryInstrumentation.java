package io.connguard.agent.instrument.http.apache5;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.agent.instrument.http.RetryAdvice;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Apache HttpClient 5's classic {@code DefaultHttpClientConnectionOperator.connect(conn, host,
 * endpointName, local, connectTimeout, socketConfig, attachment, context)}: a fresh socket per
 * address (bound to the connection again on each), so a refused connect is retried by running it
 * again.
 */
public final class Apache5ConnectRetryInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "Enter", RetryAdvice.Connect.class).on(named("connect").and(takesArguments(8)));
    }

    public static final class Enter {
        private Enter() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.Argument(1) Object host, @Advice.Argument(4) Object connectTimeout) {
            return ConnGuardHooks.connectRetryStart(ConnGuardHooks.CLIENT_APACHE5, host, -1, connectTimeout);
        }
    }
}

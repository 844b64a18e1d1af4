package io.connguard.agent.instrument.http.urlconnection;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.agent.instrument.http.RetryAdvice;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code sun.net.NetworkClient.doConnect(server, port)}: where {@code HttpURLConnection} (HTTP and
 * HTTPS) makes a fresh socket and connects it; a refused connect is retried by running it again.
 */
public final class NetworkClientRetryInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "sun.net.NetworkClient";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "Enter", RetryAdvice.Connect.class).on(named("doConnect").and(takesArguments(2)));
    }

    public static final class Enter {
        private Enter() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.Argument(0) String server, @Advice.Argument(1) int port,
                                   @Advice.FieldValue("connectTimeout") int connectTimeout) {
            return ConnGuardHooks.connectRetryStart(ConnGuardHooks.CLIENT_URLCONNECTION, server, port,
                    Integer.valueOf(Math.max(0, connectTimeout)));
        }
    }
}

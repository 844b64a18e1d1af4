package io.connguard.agent.instrument.http.apache4;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.agent.instrument.http.RetryAdvice;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Apache HttpClient 4's {@code org.apache.http.impl.conn.DefaultHttpClientConnectionOperator
 * .connect(conn, host, local, connectTimeout, socketConfig, context)} (relocated copies too): makes
 * a fresh socket per address and binds the connection only once connected, so a refused connect
 * is retried by running it again.
 */
public final class Apache4ConnectRetryInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "*.impl.conn.DefaultHttpClientConnectionOperator";
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresMethod(named("connect").and(takesArguments(6)));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "Enter", RetryAdvice.Connect.class).on(named("connect").and(takesArguments(6)));
    }

    public static final class Enter {
        private Enter() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.Argument(1) Object host, @Advice.Argument(3) int connectTimeout) {
            return ConnGuardHooks.connectRetryStart(ConnGuardHooks.CLIENT_APACHE4, host, -1, Integer.valueOf(connectTimeout));
        }
    }
}

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
 * Apache HttpClient 5's classic {@code ProtocolExec.execute(request, scope, chain)}: refused
 * responses are retried by running the step again, below the client's own
 * {@code HttpRequestRetryExec} (which runs the same step again for its own retries).
 */
public final class Apache5RetryInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "org.apache.hc.client5.http.impl.classic.ProtocolExec";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "Enter", RetryAdvice.Response.class).on(named("execute").and(takesArguments(3)));
    }

    public static final class Enter {
        private Enter() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.Argument(0) Object request, @Advice.Argument(1) Object scope) {
            return ConnGuardHooks.retryStart(ConnGuardHooks.CLIENT_APACHE5, request, scope);
        }
    }
}

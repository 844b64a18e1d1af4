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
 * Apache HttpClient 4's {@code org.apache.http.impl.execchain.ProtocolExec.execute(route,
 * request, context, execAware)} (relocated copies too): refused responses are retried by running
 * the step again, as the client's own {@code ServiceUnavailableRetryExec} does.
 */
public final class Apache4RetryInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "*.impl.execchain.ProtocolExec";
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresMethod(named("execute").and(takesArguments(4)));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "Enter", RetryAdvice.Response.class).on(named("execute").and(takesArguments(4)));
    }

    public static final class Enter {
        private Enter() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.Argument(0) Object route, @Advice.Argument(1) Object request,
                                   @Advice.Argument(2) Object context) {
            return ConnGuardHooks.retryStart(ConnGuardHooks.CLIENT_APACHE4, request, new Object[] {route, context});
        }
    }
}

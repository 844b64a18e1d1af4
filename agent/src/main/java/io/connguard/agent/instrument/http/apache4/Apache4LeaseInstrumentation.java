package io.connguard.agent.instrument.http.apache4;

import io.connguard.ConnectionLimitException;
import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.util.concurrent.ExecutionException;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code org.apache.http.impl.conn.PoolingHttpClientConnectionManager.leaseConnection} (HttpClient
 * 4.3+, relocated copies too) waits on the pool's lease future, which wraps a refusal thrown in the
 * pool's queue (see {@link Apache4PoolInstrumentation}) in an {@code ExecutionException}; the
 * client would then wrap it again in a {@code RequestAbortedException}. Unwrapped here, it reaches
 * the caller as itself, a {@code ConnectException}, as a refused connect does.
 */
public final class Apache4LeaseInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "*.impl.conn.PoolingHttpClientConnectionManager";
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresMethod(named("leaseConnection").and(takesArguments(3)));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "LeaseAdvice").on(named("leaseConnection").and(takesArguments(3)));
    }

    public static final class LeaseAdvice {
        private LeaseAdvice() {
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Thrown(readOnly = false) Throwable thrown) {
            if (thrown instanceof ExecutionException && thrown.getCause() instanceof ConnectionLimitException) {
                thrown = thrown.getCause();
            }
        }
    }
}

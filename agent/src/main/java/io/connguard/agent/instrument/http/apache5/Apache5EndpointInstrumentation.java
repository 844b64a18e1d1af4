package io.connguard.agent.instrument.http.apache5;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import static net.bytebuddy.matcher.ElementMatchers.declaresField;
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code PoolingHttpClientConnectionManager$InternalConnectionEndpoint} (classic) and
 * {@code PoolingAsyncClientConnectionManager$InternalConnectionEndpoint} (async) of Apache
 * HttpClient 5: made for each lease around the pool entry, held by the request's execution and
 * then by the response. Its constructor is the borrow (the entry was marked taken earlier, under
 * the pool's lock, by {@link Apache5HandOutInstrumentation}); its becoming garbage with the entry
 * still lent out is the garbage detector's signal.
 */
public final class Apache5EndpointInstrumentation implements TypeInstrumentation {

    private final String typeName;

    /** {@code io.PoolingHttpClientConnectionManager} or {@code nio.PoolingAsyncClientConnectionManager}. */
    public Apache5EndpointInstrumentation(String manager) {
        this.typeName = "*.impl." + manager + "$InternalConnectionEndpoint";
    }

    @Override
    public String typeName() {
        return typeName;
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresField(named("poolEntryRef"));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "ConstructorAdvice").on(isConstructor().and(takesArguments(1)));
    }

    public static final class ConstructorAdvice {
        private ConstructorAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.This Object endpoint, @Advice.Argument(0) Object entry) {
            ConnGuardHooks.pooledBorrowed(ConnGuardHooks.CLIENT_APACHE5, entry, null, endpoint);
        }
    }
}

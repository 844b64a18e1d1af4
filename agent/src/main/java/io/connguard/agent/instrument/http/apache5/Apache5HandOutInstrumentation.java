package io.connguard.agent.instrument.http.apache5;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.matcher.ElementMatcher;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Where Apache HttpClient 5's pools take an idle entry out, under the pool's lock:
 * {@code StrictConnPool$PerRoutePool.getFree(Object)} and
 * {@code LaxConnPool$PerRoutePool.getAvailableEntry(Object)} (httpcore5 5.0 to 5.3). Marking the
 * entry taken here, before the connection manager checks it ({@code hasConnection},
 * {@code isStale}), means a reclaim either finished before (the entry has no connection and is
 * reconnected) or never starts: it can never discard a connection between the client's checks.
 */
public final class Apache5HandOutInstrumentation implements TypeInstrumentation {

    private final String typeName;
    private final String method;

    private Apache5HandOutInstrumentation(String typeName, String method) {
        this.typeName = typeName;
        this.method = method;
    }

    public static Apache5HandOutInstrumentation strict() {
        return new Apache5HandOutInstrumentation("*.pool.StrictConnPool$PerRoutePool", "getFree");
    }

    public static Apache5HandOutInstrumentation lax() {
        return new Apache5HandOutInstrumentation("*.pool.LaxConnPool$PerRoutePool", "getAvailableEntry");
    }

    @Override
    public String typeName() {
        return typeName;
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresMethod(named(method).and(takesArguments(1)));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "HandOutAdvice").on(named(method).and(takesArguments(1)));
    }

    public static final class HandOutAdvice {
        private HandOutAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.Return(typing = Assigner.Typing.DYNAMIC) Object entry) {
            if (entry != null) {
                ConnGuardHooks.pooledTaken(ConnGuardHooks.CLIENT_APACHE5, entry);
            }
        }
    }
}

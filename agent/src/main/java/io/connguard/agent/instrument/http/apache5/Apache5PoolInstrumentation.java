package io.connguard.agent.instrument.http.apache5;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.isBridge;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Apache HttpClient 5's pools in httpcore5 ({@code org.apache.hc.core5.pool.StrictConnPool} and
 * {@code LaxConnPool}, 5.0 to 5.3), classic and async alike. {@code release(entry, reusable)}
 * takes an entry back, idle if reusable; {@code lease(route, state, timeout, callback)} tells
 * which pool the current thread leases from, so that a leaked entry can be given back to it.
 * (Hand-out is seen where the client wraps the entry for the caller, see
 * {@link Apache5EndpointInstrumentation}.)
 */
public final class Apache5PoolInstrumentation implements TypeInstrumentation {

    private final String typeName;

    public Apache5PoolInstrumentation(String simpleName) {
        this.typeName = "*.pool." + simpleName;
    }

    @Override
    public String typeName() {
        return typeName;
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresMethod(named("release").and(takesArguments(2)).and(takesArgument(1, boolean.class)))
                .and(declaresMethod(named("lease").and(takesArguments(4))));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(getClass(), "LeaseAdvice").on(named("lease").and(takesArguments(4))),
                Advices.of(getClass(), "RouteMaxAdvice").on(named("getMax").and(takesArguments(1))),
                Advices.of(getClass(), "ReleaseAdvice").on(named("release").and(takesArguments(2))
                        .and(takesArgument(1, boolean.class)).and(not(isBridge()))));
    }

    public static final class LeaseAdvice {
        private LeaseAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object pool) {
            ConnGuardHooks.poolLeasing(ConnGuardHooks.CLIENT_APACHE5, pool);
        }

        /** A classic lease (no callback: its caller waits on the future) may be watched, see {@link Apache5LeaseWaitInstrumentation}. */
        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.Argument(0) Object route, @Advice.Argument(3) Object callback,
                                @Advice.Return Object future) {
            if (callback == null) {
                ConnGuardHooks.poolLeaseTimeout(ConnGuardHooks.CLIENT_APACHE5, future, route, 0);
            }
        }
    }

    /** {@code StrictConnPool.getMax(route)}: for a capped host at most the cap (see {@code Apache5PoolAdapter.routeMax}). */
    public static final class RouteMaxAdvice {
        private RouteMaxAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.This Object pool, @Advice.Argument(0) Object route,
                                @Advice.Return(readOnly = false) int max) {
            max = ConnGuardHooks.poolRouteMax(ConnGuardHooks.CLIENT_APACHE5, pool, route, max);
        }
    }

    public static final class ReleaseAdvice {
        private ReleaseAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.Argument(0) Object entry, @Advice.Argument(1) boolean reusable) {
            if (reusable) {
                return ConnGuardHooks.pooledIdle(ConnGuardHooks.CLIENT_APACHE5, entry);
            }
            ConnGuardHooks.pooledReleased(ConnGuardHooks.CLIENT_APACHE5, entry);
            return null;
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Enter Object token) {
            ConnGuardHooks.pooledReturned(token);
        }
    }
}

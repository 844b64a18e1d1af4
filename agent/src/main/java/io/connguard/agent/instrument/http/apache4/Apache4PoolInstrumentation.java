package io.connguard.agent.instrument.http.apache4;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.matcher.ElementMatcher;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.isBridge;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Apache HttpClient 4's connection pool, {@code org.apache.http.pool.AbstractConnPool} (httpcore
 * 4.4), wherever it was relocated: Maven 3's wagon-http ships it as
 * {@code org.apache.maven.wagon.providers.http.httpclient.pool.AbstractConnPool}. Matched by the
 * name's tail and the pool's own {@code getPoolEntryBlocking}, never by package.
 *
 * <p>{@code getPoolEntryBlocking} hands an entry out (on the caller's thread, inside
 * {@code Future.get}); {@code release(entry, reusable)} takes it back, idle if reusable. The
 * bridge {@code release(Object, boolean)} is left alone: it calls the real one.
 */
public final class Apache4PoolInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "*.pool.AbstractConnPool";
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresMethod(named("getPoolEntryBlocking"));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(getClass(), "LeaseAdvice").on(named("getPoolEntryBlocking")),
                Advices.of(getClass(), "RouteMaxAdvice").on(named("getMax").and(takesArguments(1))),
                Advices.of(getClass(), "ReleaseAdvice").on(named("release").and(takesArguments(2))
                        .and(takesArgument(1, boolean.class)).and(not(isBridge()))));
    }

    /**
     * The lease's wait in the pool's own queue is bounded for a capped host (see
     * {@code Apache4PoolAdapter.leaseTimeout}): the arguments {@code timeout, unit} are replaced, and
     * a lease refused at once is skipped; the pool's {@code TimeoutException} at that bound, or the
     * skip, becomes ConnGuard's refusal (an {@code IOException}, which the lease's future wraps as
     * any I/O failure of the pool).
     */
    public static final class LeaseAdvice {
        private LeaseAdvice() {
        }

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.This Object pool, @Advice.Argument(0) Object route,
                                    @Advice.Argument(value = 2, readOnly = false) long timeout,
                                    @Advice.Argument(value = 3, readOnly = false) TimeUnit unit) {
            long millis = timeout > 0 && unit != null ? Math.max(1, unit.toMillis(timeout)) : 0;
            long bound = ConnGuardHooks.poolLeaseTimeout(ConnGuardHooks.CLIENT_APACHE4, pool, route, millis);
            if (bound < 0) {
                return true;
            }
            if (bound != millis) {
                timeout = bound;
                unit = TimeUnit.MILLISECONDS;
            }
            return false;
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object pool,
                                @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object entry,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            if (entry != null) {
                ConnGuardHooks.pooledTaken(ConnGuardHooks.CLIENT_APACHE4, entry);
                ConnGuardHooks.pooledBorrowed(ConnGuardHooks.CLIENT_APACHE4, entry, pool, null);
            }
            // null: timed out in the pool's queue, or skipped (refused at once)
            Object ended = thrown instanceof TimeoutException ? null : thrown != null ? thrown : entry;
            Object refusal = ConnGuardHooks.poolLeaseEnded(ConnGuardHooks.CLIENT_APACHE4, ended);
            if (refusal instanceof Throwable) {
                thrown = (Throwable) refusal;
            }
        }
    }

    /** The pool's per-route limit, for a capped host at most the cap (see {@code Apache4PoolAdapter.routeMax}). */
    public static final class RouteMaxAdvice {
        private RouteMaxAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.This Object pool, @Advice.Argument(0) Object route,
                                @Advice.Return(readOnly = false) int max) {
            max = ConnGuardHooks.poolRouteMax(ConnGuardHooks.CLIENT_APACHE4, pool, route, max);
        }
    }

    public static final class ReleaseAdvice {
        private ReleaseAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.Argument(0) Object entry, @Advice.Argument(1) boolean reusable) {
            if (reusable) {
                return ConnGuardHooks.pooledIdle(ConnGuardHooks.CLIENT_APACHE4, entry);
            }
            ConnGuardHooks.pooledReleased(ConnGuardHooks.CLIENT_APACHE4, entry);
            return null;
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Enter Object token) {
            ConnGuardHooks.pooledReturned(token);
        }
    }
}

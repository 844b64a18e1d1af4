package io.connguard.agent.instrument.http.apache5;

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
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code org.apache.hc.core5.concurrent.BasicFuture.get(timeout, unit)} (httpcore5 5.0 to 5.3): the
 * classic client waits there for its pool's lease (the future {@code StrictConnPool.lease} returned).
 * For a watched lease (see {@code Apache5PoolAdapter.leaseTimeout}) the wait is bounded by the queue
 * timeout, a lease refused at once is skipped, and the end of that bound becomes ConnGuard's
 * refusal, thrown as itself (the client passes an {@code IOException} on to the caller), unless the
 * pool completed the lease meanwhile (its entry is returned then). Every other
 * future passes through unchanged.
 */
public final class Apache5LeaseWaitInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "*.core5.concurrent.BasicFuture";
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresMethod(named("get").and(takesArguments(2)));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "GetAdvice").on(named("get").and(takesArguments(2)));
    }

    public static final class GetAdvice {
        private GetAdvice() {
        }

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.This Object future,
                                    @Advice.Argument(value = 0, readOnly = false) long timeout,
                                    @Advice.Argument(value = 1, readOnly = false) TimeUnit unit) {
            long millis = timeout > 0 && unit != null ? Math.max(1, unit.toMillis(timeout)) : 0;
            long bound = ConnGuardHooks.poolLeaseTimeout(ConnGuardHooks.CLIENT_APACHE5, future, null, millis);
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
        public static void exit(@Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object result,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            // null: timed out, or skipped (refused at once)
            Object ended = thrown instanceof TimeoutException ? null : thrown != null ? thrown : result;
            Object instead = ConnGuardHooks.poolLeaseEnded(ConnGuardHooks.CLIENT_APACHE5, ended);
            if (instead instanceof Throwable) {
                thrown = (Throwable) instead;
            } else if (instead != null) { // the entry the pool handed over as the wait ended
                result = instead;
                thrown = null;
            }
        }
    }
}

package io.connguard.agent.instrument.http.apache4;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.matcher.ElementMatcher;

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
                Advices.of(getClass(), "ReleaseAdvice").on(named("release").and(takesArguments(2))
                        .and(takesArgument(1, boolean.class)).and(not(isBridge()))));
    }

    public static final class LeaseAdvice {
        private LeaseAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.This Object pool,
                                @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object entry) {
            if (entry != null) {
                ConnGuardHooks.pooledTaken(ConnGuardHooks.CLIENT_APACHE4, entry);
                ConnGuardHooks.pooledBorrowed(ConnGuardHooks.CLIENT_APACHE4, entry, pool, null);
            }
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

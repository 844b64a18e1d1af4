package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * The object that holds a connection for one OkHttp call: {@code okhttp3.internal.connection.RealCall}
 * in OkHttp 4 and 5, {@code Transmitter} in 3.14. {@code acquireConnectionNoEvents(connection)} lends
 * the call a pooled or new connection (under the connection's lock, as does the pool's
 * idle hand-off, so the two never interleave); {@code releaseConnectionNoEvents} gives it back
 * ({@code releaseConnectionNoEvents$okhttp} is the Kotlin name of OkHttp 4's internal method).
 * The call is the user-facing handle: OkHttp itself holds it only weakly.
 */
public final class OkHttpCallInstrumentation implements TypeInstrumentation {

    private final String typeName;

    /** {@code okhttp3.internal.connection.RealCall} or {@code okhttp3.internal.connection.Transmitter}. */
    public OkHttpCallInstrumentation(String typeName) {
        this.typeName = typeName;
    }

    @Override
    public String typeName() {
        return typeName;
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresMethod(named("acquireConnectionNoEvents"));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(getClass(), "AcquireAdvice").on(named("acquireConnectionNoEvents").and(takesArguments(1))),
                Advices.of(getClass(), "ReleaseAdvice").on(named("releaseConnectionNoEvents")
                        .or(named("releaseConnectionNoEvents$okhttp")).and(takesArguments(0))));
    }

    public static final class AcquireAdvice {
        private AcquireAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.Argument(0) Object connection) {
            ConnGuardHooks.pooledTaken(ConnGuardHooks.CLIENT_OKHTTP, connection);
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.This Object call, @Advice.Argument(0) Object connection) {
            ConnGuardHooks.pooledBorrowed(ConnGuardHooks.CLIENT_OKHTTP, call, connection, call);
        }
    }

    public static final class ReleaseAdvice {
        private ReleaseAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object call) {
            ConnGuardHooks.pooledReleased(ConnGuardHooks.CLIENT_OKHTTP, call);
        }
    }
}

package io.connguard.agent.instrument.http.httpclient;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code jdk.internal.net.http.ConnectionPool}, the HTTP/1.1 pool of {@code java.net.http.HttpClient}
 * (JDK 17 and 25): {@code returnToPool(HttpConnection)} marks a connection idle (on entry, before another thread
 * can take it out of the pool), and
 * {@code getConnection(boolean, InetSocketAddress, InetSocketAddress)} hands one out. If ConnGuard
 * reclaimed it, {@code getConnection} returns null and the client opens a new connection, as it
 * does when the pool is empty. (The client also checks {@code isOpen()} on what the pool gives
 * it; the compare-and-set in the core closes the gap between that check and a reclaim.)
 *
 * <p>{@code returnToPool(HttpConnection, Instant or Deadline, long)}, which the one-argument form
 * calls after marking the connection idle, offers it to a request of this pool waiting in the
 * host's line ({@link HttpClientConnectionInstrumentation}): handed over, it is never put in the
 * pool (nor watched by the pool's cleanup subscriber, which the taker's exchange would replace).
 */
public final class HttpClientPoolInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "jdk.internal.net.http.ConnectionPool";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(getClass(), "GetAdvice").on(named("getConnection").and(takesArguments(3))),
                Advices.of(getClass(), "ReturnAdvice").on(named("returnToPool").and(takesArguments(1))),
                Advices.of(getClass(), "OfferAdvice").on(named("returnToPool").and(takesArguments(3))));
    }

    public static final class GetAdvice {
        private GetAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object connection) {
            if (connection != null && !ConnGuardHooks.pooledTaken(ConnGuardHooks.CLIENT_HTTPCLIENT, connection)) {
                connection = null;
            }
        }
    }

    public static final class OfferAdvice {
        private OfferAdvice() {
        }

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.This Object pool, @Advice.Argument(0) Object connection) {
            return ConnGuardHooks.pooledOffer(ConnGuardHooks.CLIENT_HTTPCLIENT, pool, null, connection);
        }
    }

    public static final class ReturnAdvice {
        private ReturnAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.Argument(0) Object connection) {
            return ConnGuardHooks.pooledIdle(ConnGuardHooks.CLIENT_HTTPCLIENT, connection);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Enter Object token) {
            ConnGuardHooks.pooledReturned(token);
        }
    }
}

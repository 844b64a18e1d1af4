package io.connguard.agent.instrument.http.httpclient;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code jdk.internal.net.http.HttpConnection.getPlainConnection(addr, proxy, request, client)} and
 * {@code getSSLConnection(addr, proxy, alpn, request, client)} (JDK 17 and 25): the static
 * {@code getConnection} found nothing in the client's HTTP/1.1 pool and is about to make a new
 * connection object (whose constructor opens its channel). At the host's cap the request waits
 * here, in the host's line, for a connection of its pool, handed over by
 * {@link HttpClientPoolInstrumentation}'s {@code returnToPool} (the new object is then never
 * made), or for a slot, which is counted on the new connection's channel before it connects (the
 * connect may run on another thread). It waits here, not in {@code ConnectionPool.getConnection},
 * because JDK 17's holds the pool's monitor, which the connection it waits for needs to come back.
 * A refusal (queue full, timed out) is thrown from here, after the new connection is closed: the
 * client fails the exchange with it as with a failed connect.
 */
public final class HttpClientConnectionInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "jdk.internal.net.http.HttpConnection";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "NewConnectionAdvice").on(isStatic().and(
                named("getPlainConnection").and(takesArguments(4))
                        .or(named("getSSLConnection").and(takesArguments(5)))));
    }

    public static final class NewConnectionAdvice {
        private NewConnectionAdvice() {
        }

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static Object enter(@Advice.AllArguments Object[] arguments) {
            return ConnGuardHooks.pooledMiss(ConnGuardHooks.CLIENT_HTTPCLIENT, arguments, null);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Enter Object handed,
                                @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object connection,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            if (handed != null) {
                connection = handed;
            } else {
                Object refusal = ConnGuardHooks.poolLeaseEnded(ConnGuardHooks.CLIENT_HTTPCLIENT,
                        thrown == null ? connection : null);
                if (refusal instanceof Throwable) {
                    thrown = (Throwable) refusal;
                }
            }
        }
    }
}

package io.connguard.agent.instrument.http.httpclient;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code jdk.internal.net.http.Http1Exchange(Exchange, HttpConnection)} (JDK 17 and 25): an
 * HTTP/1.1 exchange takes a connection, from the pool or new, and holds it until the response
 * body is consumed or closed. That is the borrow. It runs on the client's executor, so the stack
 * of the caller's {@code send} comes from {@link HttpClientRequestInstrumentation}, found through
 * {@code exchange.multi}.
 */
public final class HttpClientExchangeInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "jdk.internal.net.http.Http1Exchange";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "ConstructorAdvice").on(isConstructor().and(takesArguments(2)));
    }

    public static final class ConstructorAdvice {
        private ConstructorAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(
                @Advice.FieldValue(value = "connection", typing = Assigner.Typing.DYNAMIC) Object connection,
                @Advice.FieldValue(value = "exchange", typing = Assigner.Typing.DYNAMIC) Object exchange) {
            if (connection != null) {
                ConnGuardHooks.pooledBorrowed(ConnGuardHooks.CLIENT_HTTPCLIENT, connection, null, exchange);
            }
        }
    }
}

package io.connguard.agent.instrument.http.httpclient;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;

/**
 * {@code jdk.internal.net.http.MultiExchange}: made by {@code HttpClientImpl.sendAsync} on the
 * caller's thread for every request (JDK 17 and 25), before the work moves to the client's
 * executor. Its constructor is where a stack can still name the application's line.
 */
public final class HttpClientRequestInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "jdk.internal.net.http.MultiExchange";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "ConstructorAdvice").on(isConstructor());
    }

    public static final class ConstructorAdvice {
        private ConstructorAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.This Object request) {
            ConnGuardHooks.requestStarted(ConnGuardHooks.CLIENT_HTTPCLIENT, request);
        }
    }
}

package io.connguard.agent.instrument.http.httpclient;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code jdk.internal.net.http.HttpClientImpl.shutdown()} (JDK 21 and later; {@code close()} and
 * {@code shutdownNow()} call it), on the application's thread: the client's selector thread closes
 * every pooled connection next, where nothing may wait for the server to see the close. Before
 * that, the idle connections whose host has waiters are reclaimed here, so their slots move only
 * once the server has closed its side. JDK 17 has no such method: nothing is rewritten there.
 */
public final class HttpClientShutdownInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "jdk.internal.net.http.HttpClientImpl";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "ShutdownAdvice").on(named("shutdown").and(takesArguments(0)));
    }

    public static final class ShutdownAdvice {
        private ShutdownAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object client) {
            ConnGuardHooks.clientClosing(ConnGuardHooks.CLIENT_HTTPCLIENT, client);
        }
    }
}

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
 * {@code jdk.internal.net.http.HttpClientImpl.sendAsync(request, handler, pushPromiseHandler,
 * executor)}, which {@code send} and every {@code sendAsync} go through: the body handler is
 * replaced by one that recognises refusals, and the future returned by one that completes when
 * the request, with its retries, is over.
 */
public final class HttpClientRetryInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "jdk.internal.net.http.HttpClientImpl";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "Enter", Exit.class).on(named("sendAsync").and(takesArguments(4)));
    }

    public static final class Enter {
        private Enter() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object client, @Advice.Argument(0) Object request,
                                 @Advice.Argument(value = 1, readOnly = false, typing = Assigner.Typing.DYNAMIC)
                                 Object handler,
                                 @Advice.Argument(2) Object pushPromiseHandler) {
            handler = ConnGuardHooks.retryHandler(ConnGuardHooks.CLIENT_HTTPCLIENT, client, request, handler,
                    pushPromiseHandler);
        }
    }

    public static final class Exit {
        private Exit() {
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Argument(1) Object handler,
                                @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object future,
                                @Advice.Thrown Throwable thrown) {
            future = ConnGuardHooks.retryResult(ConnGuardHooks.CLIENT_HTTPCLIENT, handler,
                    thrown == null ? future : null);
        }
    }
}

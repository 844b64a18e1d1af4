package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * OkHttp's {@code okhttp3.internal.http.RetryAndFollowUpInterceptor} (3.14, 4, 5): its
 * {@code intercept} is one request with all its follow-ups; its {@code followUpRequest(response,
 * …)} decides what to send after each response, and after a refused one the hook makes that the
 * same request again (after the wait).
 */
public final class OkHttpRetryInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "okhttp3.internal.http.RetryAndFollowUpInterceptor";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(getClass(), "Intercept").on(named("intercept").and(takesArguments(1))),
                Advices.of(getClass(), "FollowUp").on(named("followUpRequest").and(takesArguments(2))));
    }

    public static final class Intercept {
        private Intercept() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.Argument(0) Object chain) {
            return ConnGuardHooks.retryStart(ConnGuardHooks.CLIENT_OKHTTP, null, chain);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Enter Object call) {
            ConnGuardHooks.retryEnd(call);
        }
    }

    public static final class FollowUp {
        private FollowUp() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.Argument(0) Object response,
                                @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object followUp) {
            followUp = ConnGuardHooks.retryFollowUp(ConnGuardHooks.CLIENT_OKHTTP, response, followUp);
        }
    }
}

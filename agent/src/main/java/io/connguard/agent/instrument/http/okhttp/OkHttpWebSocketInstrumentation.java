package io.connguard.agent.instrument.http.okhttp;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.matcher.ElementMatcher;

import static net.bytebuddy.matcher.ElementMatchers.declaresField;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code okhttp3.internal.connection.Exchange.newWebSocketStreams()} (OkHttp 4 and 5): the call's
 * connection becomes a WebSocket, held for as long as the socket lives and idle between messages.
 * That is no leak, so the call's borrow ends here.
 */
public final class OkHttpWebSocketInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "okhttp3.internal.connection.Exchange";
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresField(named("call"));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "UpgradeAdvice").on(named("newWebSocketStreams").and(takesArguments(0)));
    }

    public static final class UpgradeAdvice {
        private UpgradeAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.FieldValue(value = "call", typing = Assigner.Typing.DYNAMIC) Object call) {
            ConnGuardHooks.pooledReleased(ConnGuardHooks.CLIENT_OKHTTP, call);
        }
    }
}

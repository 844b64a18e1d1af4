package io.connguard.agent.instrument.socket;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code sun.nio.ch.NioSocketImpl.close()} (JDK 17 and 25), the platform implementation under
 * every {@code Socket} (directly, or under the {@code SocksSocketImpl} that {@code new Socket()}
 * creates): where {@link GracefulClose} half-closes a socket that {@code Socket.close} marked.
 */
public final class NioSocketImplInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "sun.nio.ch.NioSocketImpl";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "CloseAdvice").on(named("close").and(takesArguments(0)));
    }

    public static final class CloseAdvice {
        private CloseAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object impl) {
            ConnGuardHooks.closing(impl);
        }
    }
}

package io.connguard.agent.instrument.socket;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code java.net.Socket$SocketInputStream.read(byte[], int, int)} and
 * {@code Socket$SocketOutputStream.write(byte[], int, int)} (JDK 13+, including 17 and 25): every
 * byte a {@code Socket} moves, TLS ones included, passes here with the socket as {@code parent}.
 * The age detector uses it to tell a slow download from a forgotten response.
 */
public final class SocketStreamInstrumentation implements TypeInstrumentation {

    private final String typeName;
    private final String method;

    private SocketStreamInstrumentation(String typeName, String method) {
        this.typeName = typeName;
        this.method = method;
    }

    public static SocketStreamInstrumentation input() {
        return new SocketStreamInstrumentation("java.net.Socket$SocketInputStream", "read");
    }

    public static SocketStreamInstrumentation output() {
        return new SocketStreamInstrumentation("java.net.Socket$SocketOutputStream", "write");
    }

    @Override
    public String typeName() {
        return typeName;
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "ActivityAdvice").on(named(method).and(takesArguments(3)));
    }

    public static final class ActivityAdvice {
        private ActivityAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.FieldValue(value = "parent", typing = Assigner.Typing.DYNAMIC) Object socket) {
            ConnGuardHooks.activity(socket);
        }
    }
}

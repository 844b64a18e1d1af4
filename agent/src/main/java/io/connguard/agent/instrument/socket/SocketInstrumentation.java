package io.connguard.agent.instrument.socket;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import java.net.Socket;
import java.net.SocketAddress;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code java.net.Socket}: every constructor that connects and every {@code connect} overload ends
 * in {@code connect(SocketAddress, int)} (JDK 17 and 25), so that one method takes the slot.
 * {@code SSLSocketImpl.connect} calls it through {@code super}, so TLS sockets count once;
 * {@code SocketAdaptor} (a channel's socket) overrides it and is counted by
 * {@link SocketChannelInstrumentation} instead. Accepted server-side sockets never call connect
 * and are never counted.
 */
public final class SocketInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "java.net.Socket";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(getClass(), "ConnectAdvice", ConnectExitAdvice.class).on(named("connect").and(takesArguments(2))
                        .and(takesArgument(0, named("java.net.SocketAddress"))).and(takesArgument(1, int.class))),
                Advices.of(getClass(), "ClosingAdvice", CloseAdvice.class).on(named("close").and(takesArguments(0))));
    }

    /** Before the close: see {@link GracefulClose}. */
    public static final class ClosingAdvice {
        private ClosingAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Socket socket) {
            ConnGuardHooks.closing(socket);
        }
    }

    public static final class ConnectAdvice {
        private ConnectAdvice() {
        }

        /**
         * Returns the exception to throw instead of connecting (the connect is then skipped), a
         * non-null token if this call took a slot, or null if it took nothing.
         */
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Throwable.class)
        public static Object enter(@Advice.This Socket socket,
                                   @Advice.Argument(0) SocketAddress endpoint,
                                   @Advice.Argument(value = 1, readOnly = false) int timeout) {
            if (socket.isClosed() || socket.isConnected()) {
                return null; // the JDK throws at once; never wait for a slot it cannot use
            }
            Object decision = ConnGuardHooks.beforeConnect(socket, endpoint, timeout, true);
            if (decision instanceof Integer) {
                timeout = (Integer) decision; // what is left of the caller's timeout after waiting
            }
            return decision;
        }
    }
}

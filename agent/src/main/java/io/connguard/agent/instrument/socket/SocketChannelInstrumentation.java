package io.connguard.agent.instrument.socket;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

import java.net.SocketAddress;
import java.nio.channels.SocketChannel;

import static net.bytebuddy.matcher.ElementMatchers.isPublic;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code sun.nio.ch.SocketChannelImpl} (JDK 17 and 25): {@code connect(SocketAddress)} for
 * blocking and non-blocking channels, {@code blockingConnect(SocketAddress, long)} for the timed
 * connect of a channel's socket adaptor, and {@code implCloseSelectableChannel()}, which
 * {@code AbstractInterruptibleChannel.close} calls once. Both connect methods close the channel
 * when the connect fails, and so does {@code finishConnect}, so a failed non-blocking connect
 * gives its slot back through the close hook. Reads and writes report activity to the age
 * detector.
 */
public final class SocketChannelInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "sun.nio.ch.SocketChannelImpl";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(getClass(), "ConnectAdvice", ConnectExitAdvice.class).on(named("connect").and(takesArguments(1))
                        .and(takesArgument(0, named("java.net.SocketAddress")))),
                Advices.of(getClass(), "BlockingConnectAdvice", ConnectExitAdvice.class).on(named("blockingConnect").and(takesArguments(2))
                        .and(takesArgument(0, named("java.net.SocketAddress"))).and(takesArgument(1, long.class))),
                Advices.of(CloseAdvice.class).on(named("implCloseSelectableChannel").and(takesArguments(0))),
                // read(ByteBuffer), read(ByteBuffer[], int, int) and the same writes: bytes moved,
                // so a long transfer is told apart from a forgotten response.
                Advices.of(ActivityAdvice.class).on(named("read").or(named("write")).and(isPublic())
                        .and(not(isStatic()))));
    }

    public static final class ConnectAdvice {
        private ConnectAdvice() {
        }

        /** As {@link SocketInstrumentation.ConnectAdvice#enter}: a Throwable skips the connect. */
        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Throwable.class)
        public static Object enter(@Advice.This Object channel, @Advice.Argument(0) SocketAddress remote) {
            SocketChannel ch = (SocketChannel) channel;
            if (!ch.isOpen() || ch.isConnected() || ch.isConnectionPending()) {
                return null; // the JDK throws at once; never wait for a slot it cannot use
            }
            return ConnGuardHooks.beforeConnect(channel, remote, 0, ch.isBlocking());
        }
    }

    public static final class BlockingConnectAdvice {
        private BlockingConnectAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Throwable.class)
        public static Object enter(@Advice.This Object channel,
                                   @Advice.Argument(0) SocketAddress remote,
                                   @Advice.Argument(value = 1, readOnly = false) long nanos) {
            long millis = nanos == Long.MAX_VALUE ? 0 : Math.max(1, nanos / 1_000_000L);
            Object decision = ConnGuardHooks.beforeConnect(channel, remote, millis, true);
            if (decision instanceof Integer) {
                nanos = ((Integer) decision) * 1_000_000L;
            }
            return decision;
        }
    }
}

package io.connguard.agent.instrument.socket;

import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;

/**
 * The exit half of every connect advice ({@code Socket.connect}, {@code SocketChannelImpl.connect}
 * and {@code blockingConnect}); the enter halves differ only in how they read the timeout.
 *
 * <p>{@code decision} is what the enter advice returned from
 * {@link ConnGuardHooks#beforeConnect}: a Throwable (the connect was skipped) is thrown in its
 * place, the one deliberate way a {@code ConnectionLimitException} reaches the application; a
 * non-null token means this call took a slot, which a failed connect gives back; null means it
 * took nothing, so its failure (say, a second connect on a connected socket) frees nothing.
 */
public final class ConnectExitAdvice {
    private ConnectExitAdvice() {
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.This Object connection,
                            @Advice.Enter Object decision,
                            @Advice.Thrown(readOnly = false) Throwable thrown) {
        if (decision instanceof Throwable) {
            thrown = (Throwable) decision;
        } else if (thrown != null && decision != null) {
            ConnGuardHooks.connectFailed(connection);
        }
    }
}

package io.connguard.agent.instrument.socket;

import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;

/**
 * After {@code Socket.close()} and {@code SocketChannelImpl.implCloseSelectableChannel()}: gives
 * the slot back. Also on an exception from the close, since the connection is closed or unusable
 * either way. Closing an untracked or already released connection does nothing.
 */
public final class CloseAdvice {
    private CloseAdvice() {
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.This Object connection) {
        ConnGuardHooks.closed(connection);
    }
}

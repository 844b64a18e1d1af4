package io.connguard.agent.instrument.socket;

import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;

/** Exit advice for a channel read or write: bytes moved on {@code this}. */
public final class ActivityAdvice {
    private ActivityAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(@Advice.This Object channel) {
        ConnGuardHooks.activity(channel);
    }
}

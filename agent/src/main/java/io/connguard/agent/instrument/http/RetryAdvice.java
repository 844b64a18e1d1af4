package io.connguard.agent.instrument.http;

import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Exit advice shared by the retried methods: the method runs again (Byte Buddy's
 * {@code repeatOn}, without its enter advice) when the hook says the attempt was refused and is to
 * be retried. A failure inside the hook never repeats anything.
 */
public final class RetryAdvice {
    private RetryAdvice() {
    }

    /** Around a step that returns the response ({@code ProtocolExec.execute} of Apache HttpClient 4 and 5). */
    public static final class Response {
        private Response() {
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, repeatOn = Advice.OnNonDefaultValue.class,
                suppress = Throwable.class)
        public static boolean exit(@Advice.Enter Object call,
                                   @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object response,
                                   @Advice.Thrown Throwable thrown) {
            return ConnGuardHooks.retryResponse(call, response, thrown);
        }
    }

    /** Around a method that makes a fresh socket and connects it. */
    public static final class Connect {
        private Connect() {
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, repeatOn = Advice.OnNonDefaultValue.class,
                suppress = Throwable.class)
        public static boolean exit(@Advice.Enter Object call, @Advice.Thrown Throwable thrown) {
            return ConnGuardHooks.connectRetry(call, thrown);
        }
    }
}

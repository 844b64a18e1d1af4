package io.connguard.agent.instrument.http.urlconnection;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code sun.net.www.http.KeepAliveCache.get(URL, Object)}: the {@code HttpURLConnection}
 * keep-alive cache handing out an idle {@code sun.net.www.http.HttpClient}. If ConnGuard has
 * reclaimed (closed) that connection, the advice makes {@code get} return null, so
 * {@code HttpClient.New} opens a fresh connection instead of writing to a closed socket
 * (which, for a POST, the JDK would not retry). A miss inside {@code HttpClient.New} at the
 * host's cap waits in the host's line for a connection of this cache key, handed over by
 * {@code put}, or a slot for the connect that follows.
 */
public final class KeepAliveCacheInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "sun.net.www.http.KeepAliveCache";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(getClass(), "GetAdvice").on(named("get").and(takesArguments(2))),
                Advices.of(getClass(), "PutAdvice").on(named("put").and(takesArguments(3))));
    }

    public static final class GetAdvice {
        private GetAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.Argument(0) Object url, @Advice.Argument(1) Object obj,
                                @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object client) {
            if (client != null && !ConnGuardHooks.pooledTaken(ConnGuardHooks.CLIENT_URLCONNECTION, client)) {
                client = null;
            }
            if (client == null) {
                client = ConnGuardHooks.pooledMiss(ConnGuardHooks.CLIENT_URLCONNECTION, url, obj);
            }
        }
    }

    /**
     * {@code put(URL, Object, HttpClient)}: a connection a request waits for is handed to it
     * instead of cached (or closed, for the head of the line): the body is skipped.
     */
    public static final class PutAdvice {
        private PutAdvice() {
        }

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.Argument(0) Object url, @Advice.Argument(1) Object obj,
                                    @Advice.Argument(2) Object client) {
            return ConnGuardHooks.pooledOffer(ConnGuardHooks.CLIENT_URLCONNECTION, url, obj, client);
        }
    }
}

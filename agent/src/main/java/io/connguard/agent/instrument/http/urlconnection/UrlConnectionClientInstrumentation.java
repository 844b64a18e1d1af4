package io.connguard.agent.instrument.http.urlconnection;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code sun.net.www.http.HttpClient.putInKeepAliveCache()}: an {@code HttpURLConnection}
 * connection going back to the keep-alive cache, idle: marked idle on entry, before
 * {@code KeepAliveCache.put} makes it visible to other threads. {@code HttpsClient} overrides the method; see
 * {@link HttpsUrlConnectionClientInstrumentation}.
 *
 * <p>{@code HttpClient.New(URL, Proxy, int, boolean, HttpURLConnection)} (JDK 17 and 25) is where a
 * connection, cached or new, is lent to one {@code HttpURLConnection}: the borrow the leak
 * detectors follow until it goes back to the cache or is closed.
 */
public final class UrlConnectionClientInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "sun.net.www.http.HttpClient";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(getClass(), "PutAdvice").on(named("putInKeepAliveCache").and(takesArguments(0))),
                Advices.of(getClass(), "NewAdvice").on(named("New").and(isStatic()).and(takesArguments(5))));
    }

    public static final class NewAdvice {
        private NewAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.AllArguments Object[] arguments) {
            ConnGuardHooks.poolLeasing(ConnGuardHooks.CLIENT_URLCONNECTION, arguments);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Return(typing = Assigner.Typing.DYNAMIC) Object client) {
            ConnGuardHooks.poolLeaseEnded(ConnGuardHooks.CLIENT_URLCONNECTION, client);
            if (client != null) {
                ConnGuardHooks.pooledBorrowed(ConnGuardHooks.CLIENT_URLCONNECTION, client, null, null);
            }
        }
    }

    public static final class PutAdvice {
        private PutAdvice() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static Object enter(@Advice.This Object client) {
            return ConnGuardHooks.pooledIdle(ConnGuardHooks.CLIENT_URLCONNECTION, client);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.Enter Object token) {
            ConnGuardHooks.pooledReturned(token);
        }
    }
}

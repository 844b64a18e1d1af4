package io.connguard.agent.instrument.http.httpclient;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.description.method.MethodDescription;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;

/**
 * Where a {@code java.net.http.HttpClient} HTTP/1.1 connection stops being a borrow of one
 * exchange without ever going back to the pool (JDK 17 and 25): an {@code h2c} upgrade hands it to
 * {@code Http2Connection.createAsync(HttpConnection, ...)}, a WebSocket handshake hands it to
 * {@code RawChannelTube(HttpConnection, ...)}. Both live as long as their HTTP/2 session or
 * WebSocket, often idle, and are no leak: the borrow ends there.
 */
public final class HttpClientHandOverInstrumentation implements TypeInstrumentation {

    private final String typeName;
    private final ElementMatcher<? super MethodDescription> method;

    private HttpClientHandOverInstrumentation(String typeName, ElementMatcher<? super MethodDescription> method) {
        this.typeName = typeName;
        this.method = method;
    }

    public static HttpClientHandOverInstrumentation http2Upgrade() {
        return new HttpClientHandOverInstrumentation("jdk.internal.net.http.Http2Connection",
                named("createAsync").and(isStatic())
                        .and(takesArgument(0, named("jdk.internal.net.http.HttpConnection"))));
    }

    public static HttpClientHandOverInstrumentation webSocket() {
        return new HttpClientHandOverInstrumentation("jdk.internal.net.http.RawChannelTube",
                isConstructor().and(takesArgument(0, named("jdk.internal.net.http.HttpConnection"))));
    }

    @Override
    public String typeName() {
        return typeName;
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "HandOverAdvice").on(method);
    }

    public static final class HandOverAdvice {
        private HandOverAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.Argument(0) Object connection) {
            ConnGuardHooks.pooledReleased(ConnGuardHooks.CLIENT_HTTPCLIENT, connection);
        }
    }
}

package io.connguard.agent.instrument.http.urlconnection;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import net.bytebuddy.asm.AsmVisitorWrapper;

import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code sun.net.www.protocol.https.HttpsClient.putInKeepAliveCache()}: the HTTPS client overrides
 * the method (it keys the cache by its socket factory as well, JDK 17 and 25), so it needs the
 * same advice as {@link UrlConnectionClientInstrumentation} on its own copy.
 */
public final class HttpsUrlConnectionClientInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "sun.net.www.protocol.https.HttpsClient";
    }

    @Override
    public AsmVisitorWrapper advice() {
        return new AsmVisitorWrapper.Compound(
                Advices.of(UrlConnectionClientInstrumentation.class, "PutAdvice")
                        .on(named("putInKeepAliveCache").and(takesArguments(0))),
                // HttpsClient.New(SSLSocketFactory, URL, HostnameVerifier, Proxy, boolean, int,
                // HttpURLConnection): the HTTPS borrow.
                Advices.of(UrlConnectionClientInstrumentation.class, "NewAdvice")
                        .on(named("New").and(isStatic()).and(takesArguments(7))));
    }
}

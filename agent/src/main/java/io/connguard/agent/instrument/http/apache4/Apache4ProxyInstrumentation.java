package io.connguard.agent.instrument.http.apache4;

import io.connguard.agent.instrument.Advices;
import io.connguard.agent.instrument.TypeInstrumentation;
import io.connguard.bootstrap.ConnGuardHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * {@code org.apache.http.impl.conn.CPoolProxy} (HttpClient 4.3+, relocated copies too): the
 * connection object the application's response holds while a pool entry is lent out. When it
 * becomes garbage with its entry still lent out, nobody can give the entry back any more: that is
 * the garbage detector's signal for Apache HttpClient 4.
 */
public final class Apache4ProxyInstrumentation implements TypeInstrumentation {

    @Override
    public String typeName() {
        return "*.impl.conn.CPoolProxy";
    }

    @Override
    public ElementMatcher<? super TypeDescription> structure() {
        return declaresMethod(named("getPoolEntry").and(takesArguments(0)));
    }

    @Override
    public AsmVisitorWrapper advice() {
        return Advices.of(getClass(), "ConstructorAdvice").on(isConstructor().and(takesArguments(1)));
    }

    public static final class ConstructorAdvice {
        private ConstructorAdvice() {
        }

        @Advice.OnMethodExit(suppress = Throwable.class)
        public static void exit(@Advice.This Object proxy, @Advice.Argument(0) Object entry) {
            ConnGuardHooks.pooledHandle(ConnGuardHooks.CLIENT_APACHE4, entry, proxy);
        }
    }
}

package io.connguard.agent.instrument;

import io.connguard.agent.config.LogLevel;
import io.connguard.agent.instrument.http.jdk.HttpClientPoolInstrumentation;
import io.connguard.agent.instrument.http.jdk.KeepAliveCacheInstrumentation;
import io.connguard.agent.instrument.http.jdk.UrlConnectionClientInstrumentation;
import io.connguard.agent.instrument.socket.SocketChannelInstrumentation;
import io.connguard.agent.instrument.socket.SocketInstrumentation;
import io.connguard.agent.log.AgentLog;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

import java.lang.instrument.Instrumentation;
import java.util.List;

import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.not;

/**
 * Installs every {@link TypeInstrumentation} with Byte Buddy. Classes already loaded (the JDK
 * loads {@code java.net.Socket} early in some set-ups) are retransformed; no class format changes,
 * so retransformation is always possible and the JDK's own classes keep their shape.
 */
public final class Instrumenter {

    private Instrumenter() {
    }

    /** Everything the agent rewrites, in one place. */
    public static List<TypeInstrumentation> all() {
        return List.of(
                new SocketInstrumentation(),
                new SocketChannelInstrumentation(),
                new UrlConnectionClientInstrumentation(),
                new KeepAliveCacheInstrumentation(),
                new HttpClientPoolInstrumentation());
    }

    public static void install(Instrumentation inst, List<TypeInstrumentation> instrumentations) {
        // We inline advice and never need Byte Buddy's Nexus (initializers for generated types);
        // initialising it probes sun.misc.Unsafe, which JDK 24+ reports on stderr as a warning.
        // The key is relocated with Byte Buddy, so it affects only the agent's copy.
        if (System.getProperty("net.bytebuddy.nexus.disabled") == null) {
            System.setProperty("net.bytebuddy.nexus.disabled", "true");
        }
        AgentBuilder builder = new AgentBuilder.Default(new ByteBuddy().with(TypeValidation.DISABLED))
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
                .with(AgentBuilder.TypeStrategy.Default.REDEFINE)
                .with(new ErrorListener())
                // The default ignores the bootstrap loader, where every type we rewrite lives. This
                // name test is also what keeps class loading cheap: it is all that runs for any
                // other class the application loads.
                .ignore(not(rewrittenPackages()));
        for (TypeInstrumentation instrumentation : instrumentations) {
            AsmVisitorWrapper advice = instrumentation.advice();
            builder = builder.type(instrumentation.type())
                    .transform((b, type, loader, module, domain) -> b.visit(advice));
        }
        builder.installOn(inst);
    }

    private static ElementMatcher.Junction<TypeDescription> rewrittenPackages() {
        return nameStartsWith("java.net.Socket")
                .or(nameStartsWith("sun.nio.ch.SocketChannelImpl"))
                .or(nameStartsWith("sun.net.www.http."))
                .or(nameStartsWith("jdk.internal.net.http.ConnectionPool"));
    }

    /** A type we meant to rewrite and could not: that feature is off, the application runs on. */
    private static final class ErrorListener extends AgentBuilder.Listener.Adapter {
        @Override
        public void onError(String typeName, ClassLoader classLoader, JavaModule module, boolean loaded,
                            Throwable throwable) {
            AgentLog.once(LogLevel.WARN, "transform:" + typeName, "connguard: could not rewrite " + typeName
                    + "; connections through it are not governed: " + throwable, throwable);
        }

        @Override
        public void onTransformation(TypeDescription typeDescription, ClassLoader classLoader, JavaModule module,
                                     boolean loaded, net.bytebuddy.dynamic.DynamicType dynamicType) {
            AgentLog.debug("connguard: rewrote " + typeDescription.getName());
        }
    }
}

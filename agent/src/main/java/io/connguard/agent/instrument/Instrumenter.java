package io.connguard.agent.instrument;

import io.connguard.agent.config.LogLevel;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;
import io.connguard.agent.threads.AgentThreads;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.utility.JavaModule;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

import static net.bytebuddy.matcher.ElementMatchers.nameEndsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.none;

/**
 * Rewrites the types of every {@link TypeInstrumentation} with Byte Buddy.
 *
 * <p>Byte Buddy costs about half a second of class loading to set up, so premain does not wait
 * for it: it registers a {@link LazyTransformer} that knows the names of the types we rewrite and
 * builds Byte Buddy's transformer on a background thread. A rewritten type loaded before that is
 * ready waits for it (bounded), so no connection slips through ungoverned; types loaded during
 * set-up are retransformed once it is ready. If one of them is loaded already when premain runs
 * (late attach), set-up runs at once instead, since no load would pass the gate. No class format
 * changes, so retransformation is always possible and the JDK's classes keep their shape.
 */
public final class Instrumenter {

    private Instrumenter() {
    }

    /** Everything the agent rewrites: the instrumentations of every module, in order. */
    public static List<TypeInstrumentation> all(List<? extends InstrumentationModule> modules) {
        List<TypeInstrumentation> all = new ArrayList<>();
        for (InstrumentationModule module : modules) {
            all.addAll(module.instrumentations());
        }
        return all;
    }

    /**
     * Registers the transformer and starts building Byte Buddy's on the {@code connguard-init}
     * thread; {@code onReady} gets the milliseconds it took, on that thread.
     */
    public static void install(Instrumentation inst, List<TypeInstrumentation> instrumentations,
                               LongConsumer onReady) {
        List<String> names = new ArrayList<>();
        for (TypeInstrumentation i : instrumentations) {
            names.add(i.typeName());
        }
        LazyTransformer gate = new LazyTransformer(names);
        inst.addTransformer(gate, true);
        if (gate.anyLoaded(inst)) {
            // A rewritten type is already loaded (late attach, or something loaded it before
            // premain): no load will pass the gate, so set up now rather than leave a window in
            // which its connects are not governed.
            gate.setInitThread(Thread.currentThread());
            gate.initialize(inst, () -> build(instrumentations), onReady);
            return;
        }
        Thread init = AgentThreads.create("connguard-init", () -> gate.initialize(inst, () -> build(instrumentations), onReady));
        gate.setInitThread(init);
        init.start();
    }

    /** Byte Buddy's transformer for our types, not registered: {@link LazyTransformer} calls it. */
    static ClassFileTransformer build(List<TypeInstrumentation> instrumentations) {
        // We inline advice and never need Byte Buddy's Nexus (initializers for generated types);
        // initialising it probes sun.misc.Unsafe, which JDK 24+ reports on stderr as a warning.
        // The key is relocated with Byte Buddy, so it affects only the agent's copy.
        if (System.getProperty("net.bytebuddy.nexus.disabled") == null) {
            System.setProperty("net.bytebuddy.nexus.disabled", "true");
        }
        AgentBuilder builder = new AgentBuilder.Default(new ByteBuddy().with(TypeValidation.DISABLED))
                .disableClassFormatChanges()
                .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
                .with(AgentBuilder.TypeStrategy.Default.REDEFINE)
                .with(AgentBuilder.DescriptionStrategy.Default.POOL_ONLY)
                .with(AgentBuilder.PoolStrategy.Default.FAST)
                .with(new ErrorListener())
                // The default ignores the bootstrap loader, where every type we rewrite lives; the
                // LazyTransformer already let only our types through.
                .ignore(none());
        for (TypeInstrumentation instrumentation : instrumentations) {
            AsmVisitorWrapper advice = instrumentation.advice();
            String name = instrumentation.typeName();
            builder = builder.type(name.startsWith("*")
                            ? nameEndsWith(name.substring(1)).and(instrumentation.structure())
                            : named(name))
                    .transform((b, type, loader, module, domain) -> b.visit(advice));
        }
        return builder.makeRaw();
    }

    /** A type we meant to rewrite and could not: that feature is off, the application runs on. */
    private static final class ErrorListener extends AgentBuilder.Listener.Adapter {
        @Override
        public void onError(String typeName, ClassLoader classLoader, JavaModule module, boolean loaded,
                            Throwable throwable) {
            AgentLog.once(LogLevel.WARN, "transform:" + typeName, Sentences.notRewritten(typeName, throwable), throwable);
        }

        @Override
        public void onTransformation(TypeDescription typeDescription, ClassLoader classLoader, JavaModule module,
                                     boolean loaded, DynamicType dynamicType) {
            AgentLog.debug(Sentences.rewrote(typeDescription.getName()));
        }
    }
}

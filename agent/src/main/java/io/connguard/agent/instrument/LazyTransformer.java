package io.connguard.agent.instrument;

import io.connguard.agent.config.LogLevel;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The transformer premain registers: a set lookup per loaded class, and for the few types we
 * rewrite, a hand-over to Byte Buddy's transformer once it is built (see {@link Instrumenter}).
 */
final class LazyTransformer implements ClassFileTransformer {

    /** How long a thread loading a rewritten type waits for the set-up before going ahead unrewritten. */
    private static final long MAX_WAIT_SECONDS = 20;

    private final Set<String> internalNames = new HashSet<>();
    /** Internal-name suffixes of types matched wherever they were relocated ({@code /pool/AbstractConnPool}). */
    private final String[] suffixes;
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile ClassFileTransformer delegate;
    private volatile Thread initThread;

    LazyTransformer(List<String> typeNames) {
        List<String> ends = new ArrayList<>();
        for (String name : typeNames) {
            if (name.startsWith("*")) {
                ends.add(name.substring(1).replace('.', '/'));
            } else {
                internalNames.add(name.replace('.', '/'));
            }
        }
        this.suffixes = ends.toArray(new String[0]);
    }

    void setInitThread(Thread thread) {
        this.initThread = thread;
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        if (className == null || !ours(className)) {
            return null;
        }
        ClassFileTransformer d = delegate;
        if (d == null) {
            if (Thread.currentThread() == initThread) {
                return null; // never wait for ourselves: initialize() retransforms it afterwards
            }
            try {
                if (!ready.await(MAX_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    AgentLog.once(LogLevel.WARN, "init-slow", Sentences.setUpSlow(MAX_WAIT_SECONDS, className), null);
                    return null;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            d = delegate;
            if (d == null) {
                return null;
            }
        }
        try {
            return d.transform(module, loader, className, classBeingRedefined, protectionDomain, classfileBuffer);
        } catch (Throwable t) {
            AgentLog.once(LogLevel.WARN, "transform:" + className, Sentences.notRewritten(className, t), t);
            return null;
        }
    }

    private boolean ours(String internalName) {
        if (internalNames.contains(internalName)) {
            return true;
        }
        for (String suffix : suffixes) {
            if (internalName.endsWith(suffix)) {
                return true;
            }
        }
        return false;
    }

    /** Whether one of our types is loaded already. */
    boolean anyLoaded(Instrumentation inst) {
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (internalNames.contains(c.getName().replace('.', '/'))) {
                return true; // (suffix-matched library types do not force an early set-up)
            }
        }
        return false;
    }

    /** Builds the real transformer, then rewrites our types that were loaded before it was ready. */
    void initialize(Instrumentation inst, Supplier<ClassFileTransformer> factory, LongConsumer onReady) {
        long start = System.nanoTime();
        try {
            delegate = factory.get();
        } catch (Throwable t) {
            AgentLog.error(Sentences.rewritingFailed(t), t);
            return;
        } finally {
            ready.countDown();
        }
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (ours(c.getName().replace('.', '/')) && inst.isModifiableClass(c)) {
                loaded.add(c);
            }
        }
        if (!loaded.isEmpty()) {
            try {
                inst.retransformClasses(loaded.toArray(new Class<?>[0]));
            } catch (Throwable t) {
                AgentLog.error(Sentences.retransformFailed(loaded, t), t);
            }
        }
        AgentLog.debug(Sentences.retransformed(loaded.size()));
        onReady.accept((System.nanoTime() - start) / 1_000_000);
    }
}

package io.connguard.bench;

import java.lang.instrument.Instrumentation;

/**
 * An agent that does nothing, for {@link ProcessBench}'s start-up floor: what any
 * {@code -javaagent} costs the JVM (the instrument library, JVMTI, the agent jar on the class
 * path, one premain call) before the agent itself does anything. ProcessBench writes a
 * manifest-only jar naming this class as {@code Premain-Class}; the class itself is loaded from
 * the class path.
 */
public final class NoopAgent {

    private NoopAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        // nothing, on purpose
    }
}

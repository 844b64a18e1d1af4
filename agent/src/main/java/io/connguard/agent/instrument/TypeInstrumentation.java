package io.connguard.agent.instrument;

import net.bytebuddy.asm.AsmVisitorWrapper;

/**
 * One rewritten type: which type it matches and which advice it applies. Each implementation is
 * a small class with nested, thin advice that only calls {@link io.connguard.bootstrap.ConnGuardHooks};
 * no policy lives in advice.
 */
public interface TypeInstrumentation {

    /** The binary name of the type to rewrite; matched by exact name, so nothing is loaded to match. */
    String typeName();

    /**
     * The advice to apply to the matched type, built from class files by {@link Advices} (never
     * by reflection, which would load the rewritten type while it is being loaded).
     */
    AsmVisitorWrapper advice();
}

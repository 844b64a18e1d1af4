package io.connguard.agent.instrument;

import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.matcher.ElementMatchers;

import net.bytebuddy.asm.AsmVisitorWrapper;

/**
 * One rewritten type: which type it matches and which advice it applies. Each implementation is
 * a small class with nested, thin advice that only calls {@link io.connguard.bootstrap.ConnGuardHooks};
 * no policy lives in advice.
 */
public interface TypeInstrumentation {

    /**
     * The binary name of the type to rewrite; matched by exact name, so nothing is loaded to
     * match. A name starting with {@code *} matches every type whose name ends with the rest
     * ({@code *.pool.AbstractConnPool}), for libraries that are shipped relocated inside other
     * jars; {@link #structure()} then says what such a type must look like.
     */
    String typeName();

    /** What a type matched by name suffix must also declare to be rewritten; anything by default. */
    default ElementMatcher<? super TypeDescription> structure() {
        return ElementMatchers.any();
    }

    /**
     * The advice to apply to the matched type, built from class files by {@link Advices} (never
     * by reflection, which would load the rewritten type while it is being loaded).
     */
    AsmVisitorWrapper advice();
}

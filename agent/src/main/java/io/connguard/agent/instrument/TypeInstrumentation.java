package io.connguard.agent.instrument;

import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * One rewritten type: which type it matches and which advice it applies. Each implementation is
 * a small class with nested, thin advice that only calls {@link io.connguard.bootstrap.ConnGuardHooks};
 * no policy lives in advice.
 */
public interface TypeInstrumentation {

    /** Matches the type to rewrite, by exact name: cheap, and never loads the type. */
    ElementMatcher<TypeDescription> type();

    /**
     * The advice to apply to the matched type. Built once, before any class is rewritten:
     * {@code Advice.to} describes the advice class by reflection, which loads the types in its
     * signatures; doing that while {@code java.net.Socket} itself is being transformed would be a
     * {@code ClassCircularityError}.
     */
    AsmVisitorWrapper advice();
}

package io.connguard.agent.instrument;

import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.pool.TypePool;

/**
 * Builds {@link Advice} from the class files of our advice classes, never by reflection.
 * {@code Advice.to(Class)} would load the types in the advice's signatures (such as
 * {@code java.net.Socket}); when the transformation runs while that very type is being loaded,
 * that is a {@code ClassCircularityError}, and from a background thread it could wait on the
 * class loading that is waiting for us.
 */
public final class Advices {

    private static final ClassFileLocator LOCATOR = ClassFileLocator.ForClassLoader.of(Advices.class.getClassLoader());
    private static final TypePool POOL = TypePool.Default.of(LOCATOR);

    private Advices() {
    }

    /** Enter advice from the nested class {@code enterName} of {@code instrumentation}, exit advice from {@code exit}. */
    public static Advice of(Class<?> instrumentation, String enterName, Class<?> exit) {
        return Advice.to(describe(instrumentation.getName() + "$" + enterName), describe(exit.getName()), LOCATOR);
    }

    private static TypeDescription describe(String name) {
        return POOL.describe(name).resolve();
    }

    /** The advice in {@code advice}, a top-level class shared by several instrumentations. */
    public static Advice of(Class<?> advice) {
        return Advice.to(describe(advice.getName()), LOCATOR);
    }

    /** The advice in the nested class {@code simpleName} of {@code instrumentation}. */
    public static Advice of(Class<?> instrumentation, String simpleName) {
        return Advice.to(describe(instrumentation.getName() + "$" + simpleName), LOCATOR);
    }
}

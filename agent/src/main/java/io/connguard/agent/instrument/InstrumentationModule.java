package io.connguard.agent.instrument;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One unit of what the agent rewrites: the socket layer, or one client's folder. The
 * {@link Instrumenter} rewrites the types of every module it is given.
 */
public interface InstrumentationModule {

    /** Its rewritten types, one small {@link TypeInstrumentation} each. */
    List<TypeInstrumentation> instrumentations();

    /**
     * The JDK modules its advice is inlined into, each with the non-exported packages its own
     * code reads inside ({@code java.base} → {@code sun.nio.ch}): at start-up the agent gives
     * each a read edge to the hooks and opens those packages to itself. None for a library.
     */
    default Map<String, Set<String>> jdkPackages() {
        return Map.of();
    }
}

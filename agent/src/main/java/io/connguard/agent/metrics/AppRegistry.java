package io.connguard.agent.metrics;

import io.connguard.agent.core.HostState;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.ToDoubleFunction;

/**
 * The application's own Micrometer, reached only by reflection: its {@code Metrics.globalRegistry}
 * (the composite Spring Boot adds its registries to) gets the same meters as the agent's registry.
 * The application's classes and the agent's shaded copy never meet: every value crossing over is a
 * JDK type ({@code String}, {@code String[]}, {@code double[]}, {@link ToDoubleFunction} over the
 * agent's {@link HostState}, {@link TimeUnit}), and every meter and builder stays an
 * {@code Object} here.
 *
 * <p>Names are assembled at run time: the shade plugin rewrites string constants that look like
 * {@code io.micrometer} class names to the agent's relocated copy, which is exactly what must not
 * happen here.
 */
final class AppRegistry implements HostMeterBinder.Sink {

    /** The application's {@code io.micrometer.core.instrument} package, spelled so shading leaves it alone. */
    static final String PACKAGE = String.join(".", "io", "micrometer", "core", "instrument");
    /** {@code io/micrometer/core/instrument/Metrics}: the class whose loading reveals the application's Micrometer. */
    static final String METRICS_INTERNAL_NAME = PACKAGE.replace('.', '/') + "/Metrics";

    private final Object registry;
    private final String where;
    private final Method gaugeBuilder;
    private final Method gaugeTags;
    private final Method gaugeDescription;
    private final Method gaugeStrong; // null on Micrometer versions without it
    private final Method gaugeRegister;
    private final Method counterBuilder;
    private final Method counterTags;
    private final Method counterDescription;
    private final Method counterRegister;
    private final Method timerBuilder;
    private final Method timerTags;
    private final Method timerDescription;
    private final Method timerPercentiles;
    private final Method timerRegister;
    private final Method timerRecord;

    private AppRegistry(ClassLoader loader, Object registry) throws ReflectiveOperationException {
        this.registry = registry;
        this.where = String.valueOf(loader);
        Class<?> meterRegistry = Class.forName(PACKAGE + ".MeterRegistry", false, loader);
        Class<?> gauge = Class.forName(PACKAGE + ".Gauge", false, loader);
        gaugeBuilder = gauge.getMethod("builder", String.class, Object.class, ToDoubleFunction.class);
        Class<?> gb = gaugeBuilder.getReturnType();
        gaugeTags = gb.getMethod("tags", String[].class);
        gaugeDescription = gb.getMethod("description", String.class);
        gaugeStrong = optional(gb, "strongReference", boolean.class);
        gaugeRegister = gb.getMethod("register", meterRegistry);
        Class<?> counter = Class.forName(PACKAGE + ".FunctionCounter", false, loader);
        counterBuilder = counter.getMethod("builder", String.class, Object.class, ToDoubleFunction.class);
        Class<?> cb = counterBuilder.getReturnType();
        counterTags = cb.getMethod("tags", String[].class);
        counterDescription = cb.getMethod("description", String.class);
        counterRegister = cb.getMethod("register", meterRegistry);
        Class<?> timer = Class.forName(PACKAGE + ".Timer", false, loader);
        timerBuilder = timer.getMethod("builder", String.class);
        Class<?> tb = timerBuilder.getReturnType();
        timerTags = tb.getMethod("tags", String[].class);
        timerDescription = tb.getMethod("description", String.class);
        timerPercentiles = tb.getMethod("publishPercentiles", double[].class);
        timerRegister = tb.getMethod("register", meterRegistry);
        timerRecord = timer.getMethod("record", long.class, TimeUnit.class);
    }

    /**
     * The application's {@code Metrics.globalRegistry} as seen from {@code loader}; initializes the
     * application's {@code Metrics} class if it is not yet (it only creates an empty composite).
     *
     * @throws ReflectiveOperationException if that Micrometer lacks something the meters need
     */
    static AppRegistry of(ClassLoader loader) throws ReflectiveOperationException {
        Class<?> metrics = Class.forName(PACKAGE + ".Metrics", true, loader);
        Object global = metrics.getField("globalRegistry").get(null);
        if (global == null) {
            throw new ReflectiveOperationException("Metrics.globalRegistry is null");
        }
        return new AppRegistry(loader, global);
    }

    /**
     * Whether the application has put a registry into the global composite yet (Spring Boot does
     * when its registries are created). Meters are registered only then: a composite without
     * registries publishes nothing, and Micrometer warns when a registry joins a composite that
     * already has meters.
     */
    boolean inUse() {
        try {
            Object registries = registry.getClass().getMethod("getRegistries").invoke(registry);
            return !(registries instanceof java.util.Collection) || !((java.util.Collection<?>) registries).isEmpty();
        } catch (NoSuchMethodException notComposite) {
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The registry object itself, to tell two class loaders that share one Micrometer apart. */
    Object registry() {
        return registry;
    }

    @Override
    public String describe() {
        return "the application's Metrics.globalRegistry (class loader " + where + ")";
    }

    @Override
    public LongConsumer bind(HostState h) throws Exception {
        try {
            for (HostMeters.Spec s : HostMeters.specs(h)) {
                Object tags = HostMeters.tags(h, s);
                if (s.counter()) {
                    Object b = counterBuilder.invoke(null, s.name(), h, s.value());
                    counterTags.invoke(b, tags);
                    counterDescription.invoke(b, s.description());
                    counterRegister.invoke(b, registry);
                } else {
                    Object b = gaugeBuilder.invoke(null, s.name(), h, s.value());
                    gaugeTags.invoke(b, tags);
                    gaugeDescription.invoke(b, s.description());
                    if (gaugeStrong != null) {
                        gaugeStrong.invoke(b, true);
                    }
                    gaugeRegister.invoke(b, registry);
                }
            }
            Object b = timerBuilder.invoke(null, HostMeters.WAIT);
            timerTags.invoke(b, (Object) HostMeters.tags(h, null));
            timerDescription.invoke(b, HostMeters.WAIT_DESCRIPTION);
            timerPercentiles.invoke(b, (Object) HostMeters.WAIT_PERCENTILES.clone());
            Object timer = timerRegister.invoke(b, registry);
            return nanos -> {
                try {
                    timerRecord.invoke(timer, nanos, TimeUnit.NANOSECONDS);
                } catch (Throwable ignored) {
                    // the application's registry failed to record: its business, never the caller's
                }
            };
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw cause instanceof Exception ? (Exception) cause : e;
        }
    }

    private static Method optional(Class<?> type, String name, Class<?>... params) {
        try {
            return type.getMethod(name, params);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }
}

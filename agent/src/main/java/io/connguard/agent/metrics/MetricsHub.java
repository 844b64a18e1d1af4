package io.connguard.agent.metrics;

import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;
import io.connguard.agent.threads.AgentThreads;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.ref.WeakReference;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Where the agent's meters go, and the daemon thread {@code connguard-metrics} that puts them
 * there: the agent's own Prometheus endpoint ({@code CONNGUARD_PROMETHEUS_PORT}) and, unless
 * {@code CONNGUARD_METRICS_BRIDGE=false}, the application's own Micrometer
 * ({@code Metrics.globalRegistry}, which Spring Boot feeds its registries from).
 *
 * <p>The application's Micrometer is found without touching it: a transformer that rewrites
 * nothing notices when a class loader loads {@code io.micrometer.core.instrument.Metrics} (Spring
 * Boot's nested-jar loader included), and after a late attach the loaded classes are searched
 * once. The metrics thread reaches that registry by reflection ({@link AppRegistry}) a second
 * after the application loaded the class, never in premain, and registers the meters once the
 * application has put a registry of its own into the composite (checked every second). Without
 * Micrometer in the application and without a Prometheus port the thread never starts and no
 * Micrometer class is loaded.
 */
public final class MetricsHub {

    /** How long after the application loaded Micrometer's {@code Metrics} the agent registers in it. */
    static final long BRIDGE_DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How often the metrics thread looks again whether the application has put a registry into its global composite. */
    static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Most application registries (one per class loader with its own Micrometer) the meters go into. */
    static final int MAX_APP_REGISTRIES = 8;

    private final HostMeterBinder binder = new HostMeterBinder(this::wake);
    private final PrometheusEndpoint prometheus;
    private final boolean bridge;
    private final ConcurrentLinkedQueue<Found> found = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile boolean ready;
    private volatile Thread thread;

    /** @param prometheusPort 0 for no endpoint */
    public MetricsHub(String prometheusHost, int prometheusPort, boolean bridge) {
        this.prometheus = prometheusPort > 0 ? new PrometheusEndpoint(prometheusHost, prometheusPort) : null;
        this.bridge = bridge;
        if (prometheus != null) {
            binder.expectSink();
        }
    }

    /** Whether any meters can ever be registered: then the core's events go to {@link #binder()}. */
    public boolean active() {
        return prometheus != null || bridge;
    }

    public HostMeterBinder binder() {
        return binder;
    }

    /** The transformer that notices the application's Micrometer; it never changes a class. Null without the bridge. */
    public ClassFileTransformer observer() {
        if (!bridge) {
            return null;
        }
        return new ClassFileTransformer() {
            @Override
            public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
                                    ProtectionDomain protectionDomain, byte[] classfileBuffer) {
                if (loader != null && classBeingRedefined == null && AppRegistry.METRICS_INTERNAL_NAME.equals(className)) {
                    noticed(loader);
                }
                return null;
            }
        };
    }

    /**
     * Class rewriting is ready: starts the metrics thread if there is an endpoint to open or an
     * application Micrometer already loaded (late attach, or loaded before rewriting was ready).
     */
    public void ready(Instrumentation inst) {
        if (bridge) {
            try {
                for (Class<?> c : inst.getAllLoadedClasses()) {
                    if (c.getClassLoader() != null && c.getName().equals(AppRegistry.PACKAGE + ".Metrics")) {
                        noticed(c.getClassLoader());
                    }
                }
            } catch (Throwable t) {
                AgentLog.debug(Sentences.micrometerLookupFailed(t));
            }
        }
        ready = true;
        if (prometheus != null || !found.isEmpty()) {
            start();
        }
    }

    /** Whether the Prometheus endpoint could not start (for tests). */
    boolean prometheusFailed() {
        return prometheus != null && prometheus.failed();
    }

    private void noticed(ClassLoader loader) {
        try {
            binder.expectSink();
            found.add(new Found(loader, System.nanoTime() + BRIDGE_DELAY_NANOS));
            if (ready) {
                start();
            }
            wake();
        } catch (Throwable ignored) {
            // never disturb the class load
        }
    }

    private void start() {
        if (started.compareAndSet(false, true)) {
            // A daemon: the HTTP server's dispatcher thread inherits it, and never holds up exit.
            Thread t = AgentThreads.create("connguard-metrics", this::run);
            thread = t;
            t.start();
        }
    }

    private void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private void run() {
        if (prometheus != null) {
            // Through PrometheusEndpoint: this class must not name a Micrometer type, or loading it
            // would load the agent's Micrometer in every JVM.
            HostMeterBinder.Sink sink = prometheus.sink();
            if (sink != null) {
                binder.addSink(sink);
            }
        }
        List<Found> due = new ArrayList<>();
        Set<Object> registries = Collections.newSetFromMap(new IdentityHashMap<>());
        while (true) {
            try {
                Found f;
                while ((f = found.poll()) != null) {
                    due.add(f);
                }
                long now = System.nanoTime();
                long sleep = TimeUnit.SECONDS.toNanos(5);
                for (Iterator<Found> it = due.iterator(); it.hasNext(); ) {
                    Found d = it.next();
                    if (d.at - now <= 0 && bridge(d, registries)) {
                        it.remove();
                    } else {
                        sleep = Math.min(sleep, Math.max(d.at - now, TimeUnit.MILLISECONDS.toNanos(10)));
                    }
                }
                binder.bindPending();
                LockSupport.parkNanos(this, sleep);
            } catch (Throwable t) {
                AgentLog.debug(Sentences.metricsThreadFailed(t));
                LockSupport.parkNanos(this, TimeUnit.SECONDS.toNanos(5));
            }
        }
    }

    /** Returns true when done with {@code f}: bridged, refused, or its class loader is gone. */
    private boolean bridge(Found f, Set<Object> registries) {
        ClassLoader loader = f.loader.get();
        if (loader == null || registries.size() >= MAX_APP_REGISTRIES) {
            return true;
        }
        if (f.app == null) {
            try {
                f.app = AppRegistry.of(loader);
            } catch (Throwable t) {
                AgentLog.info(Sentences.metricsBridgeRefused(loader, t));
                return true;
            }
        }
        if (!f.app.inUse()) {
            f.at = System.nanoTime() + RECHECK_NANOS; // no registry in the composite yet: look again later
            return false;
        }
        if (registries.add(f.app.registry())) {
            binder.addSink(f.app);
            AgentLog.info(Sentences.metricsBridged(f.app.describe()));
        }
        return true;
    }

    /** A class loader that loaded the application's {@code Metrics}, and when to bridge into it. */
    private static final class Found {
        final WeakReference<ClassLoader> loader;
        long at;
        AppRegistry app;

        Found(ClassLoader loader, long at) {
            this.loader = new WeakReference<>(loader);
            this.at = at;
        }
    }
}

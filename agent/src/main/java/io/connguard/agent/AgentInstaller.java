package io.connguard.agent;

import io.connguard.agent.config.AgentConfig;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.LocalSlotStore;
import io.connguard.agent.core.SlotStore;
import io.connguard.agent.core.StackMode;
import io.connguard.agent.core.fleet.FleetCoordinator;
import io.connguard.agent.core.fleet.FleetSlotStore;
import io.connguard.agent.fleet.redis.RedisFleetBackend;
import io.connguard.agent.instrument.Instrumenter;
import io.connguard.agent.jmx.JmxRegistrar;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.metrics.MetricsHub;
import io.connguard.agent.text.Sentences;
import io.connguard.bootstrap.ConnGuardHooks;

import java.lang.instrument.Instrumentation;
import java.util.Map;
import java.util.Set;

/**
 * Steps 3 and 4 of the start-up order written down in {@link ConnGuardAgent}: runs only after the
 * bootstrap jar is on the bootstrap class path, because this class names the hook types.
 */
final class AgentInstaller {

    private AgentInstaller() {
    }

    /** Returns false, having installed nothing, when the hooks are installed already. */
    static boolean install(Instrumentation inst, AgentConfig config, boolean late, long t0) {
        String version = ConnGuardAgent.version();
        if (ConnGuardHooks.isInstalled()) {
            AgentLog.warn(Sentences.alreadyRunning());
            return false;
        }
        addReadEdgesAndOpens(inst);

        Reaper reaper = new Reaper();
        AgentEvents events = new AgentEvents(reaper::start);
        SlotStore store = new LocalSlotStore();
        FleetCoordinator fleet = null;
        if (config.fleetEnabled()) {
            // Nothing here talks to Redis: the coordinator's thread starts with the first connect to a
            // fleet-capped host, and it connects to Redis then.
            fleet = new FleetCoordinator(new RedisFleetBackend(config.fleetRedis(), config.fleetName(),
                    config.fleetLeaseMillis()), config.fleetFallbackLimit(), config.fleetLeaseMillis(),
                    events, AgentInstaller::fleetThread);
            store = new FleetSlotStore(store, config::fleetLimitFor, fleet);
            FleetCoordinator stopping = fleet;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stopping.stop(1_500), "connguard-fleet-release"));
        }
        Governor governor = new Governor(config::limitFor, store, config.queueTimeoutMillis(),
                config.queueMax(), events, new WaitRules(), StackMode.valueOf(config.leakStacks().name()),
                config.leakThresholdMillis(), Sentences::refusal);
        events.setLeakSettings(config.leakThresholdMillis(), config.leakStacks().label());
        reaper.governor = governor;
        events.setJmx(new JmxRegistrar(governor, version, config.describe(), config.maxPerHost(),
                config.hostLimits().toString(), config.queueMax(), events::recentLeaks, fleet));
        // Meters: the metrics thread starts once class rewriting is ready (below), never in premain,
        // and only for CONNGUARD_PROMETHEUS_PORT or once the application loads its own Micrometer
        // (noticed by a transformer that changes nothing); until then new destinations only queue.
        MetricsHub metrics = new MetricsHub(config.prometheusHost(), config.prometheusPort(), config.metricsBridge());
        if (metrics.active()) {
            events.setMetrics(metrics.binder());
        }
        java.lang.instrument.ClassFileTransformer observer = metrics.observer();
        if (observer != null) {
            inst.addTransformer(observer, false);
        }
        ConnGuardHooks.install(new HookBridge(governor, new io.connguard.agent.retry.Retries(config, governor)));

        long premainMillis = (System.nanoTime() - t0) / 1_000_000;
        // The start-up line is logged when class rewriting is ready, usually on the background
        // thread: setting up logging costs tens of milliseconds that premain should not spend.
        Instrumenter.install(inst, Instrumenter.all(), readyMillis -> {
            AgentLog.info(Sentences.started(version, late, premainMillis, readyMillis, config.describe()));
            metrics.ready(inst);
        });
        return true;
    }

    private static Thread fleetThread(Runnable r) {
        Thread t = new Thread(r, "connguard-fleet");
        t.setDaemon(true);
        return t;
    }

    /**
     * Named modules do not read the unnamed module that holds classes appended to the bootstrap
     * path, so advice inlined into {@code java.base} and {@code java.net.http} could not link
     * against the hooks without these read edges. The opens let the agent read the socket or
     * channel behind the JDK's pooled connections.
     */
    private static void addReadEdgesAndOpens(Instrumentation inst) {
        Module hooks = ConnGuardHooks.class.getModule();
        Module agent = ConnGuardAgent.class.getModule();
        Module base = Object.class.getModule();
        inst.redefineModule(base, Set.of(hooks), Map.of(),
                Map.of("sun.net", Set.of(agent), "sun.net.www.http", Set.of(agent), "sun.security.ssl", Set.of(agent),
                        "sun.nio.ch", Set.of(agent), "sun.net.www", Set.of(agent),
                        "sun.net.www.protocol.http", Set.of(agent)),
                Set.of(), Map.of());
        ModuleLayer.boot().findModule("java.net.http").ifPresent(http -> inst.redefineModule(http, Set.of(hooks),
                Map.of(), Map.of("jdk.internal.net.http", Set.of(agent)), Set.of(), Map.of()));
    }

}

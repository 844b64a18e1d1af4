package io.connguard.agent;

import io.connguard.agent.config.AgentConfig;
import io.connguard.agent.core.Governor;
import io.connguard.agent.core.LocalSlotStore;
import io.connguard.agent.core.SlotStore;
import io.connguard.agent.core.StackMode;
import io.connguard.agent.core.fleet.FleetCoordinator;
import io.connguard.agent.core.fleet.FleetSlotStore;
import io.connguard.agent.fleet.redis.RedisFleetBackend;
import io.connguard.agent.instrument.InstrumentationModule;
import io.connguard.agent.instrument.Instrumenter;
import io.connguard.agent.instrument.http.ClientModule;
import io.connguard.agent.instrument.http.Clients;
import io.connguard.agent.instrument.socket.SocketModule;
import io.connguard.agent.jmx.JmxRegistrar;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.metrics.MetricsHub;
import io.connguard.agent.retry.Retries;
import io.connguard.agent.text.Sentences;
import io.connguard.agent.threads.AgentThreads;
import io.connguard.bootstrap.ConnGuardHooks;

import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

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
        List<ClientModule> clients = Clients.all();
        List<InstrumentationModule> modules = new ArrayList<>();
        modules.add(new SocketModule());
        modules.addAll(clients);
        addReadEdgesAndOpens(inst, modules);

        Reaper reaper = new Reaper();
        AgentEvents events = new AgentEvents(reaper::start);
        SlotStore store = new LocalSlotStore(TimeUnit.MILLISECONDS.toNanos(config.reclaimSettleMillis()));
        FleetCoordinator fleet = null;
        if (config.fleetEnabled()) {
            // Nothing here talks to Redis, reads a resource or asks for randomness: the coordinator's
            // thread starts with the first connect to a fleet-capped host, and its call thread
            // connects to Redis then; each call is bounded (FLEET_CALL_BOUND_MILLIS).
            fleet = new FleetCoordinator(new RedisFleetBackend(config.fleetRedis(), config.fleetName(),
                    config.fleetLeaseMillis()), config.fleetFallbackLimit(), config.fleetLeaseMillis(),
                    events, r -> agentThread(r, "connguard-fleet"), r -> agentThread(r, "connguard-fleet-call"),
                    FLEET_CALL_BOUND_MILLIS);
            store = new FleetSlotStore(store, config::fleetLimitFor, fleet);
            FleetCoordinator stopping = fleet;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stopping.stop(1_500), "connguard-fleet-release"));
        }
        Governor governor = new Governor(config::limitFor, store, config.queueTimeoutMillis(),
                config.queueMax(), events, new WaitRules(clients), StackMode.valueOf(config.leakStacks().name()),
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
        ConnGuardHooks.install(new HookBridge(governor, new Retries(config, governor, clients), clients));

        long premainMillis = (System.nanoTime() - t0) / 1_000_000;
        // The start-up line is logged when class rewriting is ready, usually on the background
        // thread: setting up logging costs tens of milliseconds that premain should not spend.
        Instrumenter.install(inst, Instrumenter.all(modules), readyMillis -> {
            AgentLog.info(Sentences.started(version, late, premainMillis, readyMillis, config.describe()));
            metrics.ready(inst);
        });
        return true;
    }

    /**
     * How long the fleet thread waits for one Redis call (name lookup, connect, handshake and
     * reply) before it falls back without it.
     */
    static final long FLEET_CALL_BOUND_MILLIS = 2_000;

    private static Thread agentThread(Runnable r, String name) {
        return AgentThreads.create(name, r); // started on an application thread: never pin its class loader
    }

    /**
     * Named modules do not read the unnamed module that holds classes appended to the bootstrap
     * path, so advice inlined into the JDK modules that the instrumentation modules name
     * ({@code java.base}, and a JDK client's own) could not link against the hooks without these
     * read edges. The opens let the agent read the socket or channel behind the JDK's pooled
     * connections.
     */
    private static void addReadEdgesAndOpens(Instrumentation inst, List<InstrumentationModule> modules) {
        Module hooks = ConnGuardHooks.class.getModule();
        Module agent = ConnGuardAgent.class.getModule();
        Map<String, Map<String, Set<Module>>> opens = new HashMap<>();
        for (InstrumentationModule module : modules) {
            module.jdkPackages().forEach((name, packages) -> {
                Map<String, Set<Module>> open = opens.computeIfAbsent(name, n -> new HashMap<>());
                for (String p : packages) {
                    open.put(p, Set.of(agent));
                }
            });
        }
        opens.forEach((name, open) -> ModuleLayer.boot().findModule(name).ifPresent(jdk ->
                inst.redefineModule(jdk, Set.of(hooks), Map.of(), open, Set.of(), Map.of())));
    }

}

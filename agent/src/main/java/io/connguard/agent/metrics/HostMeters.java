package io.connguard.agent.metrics;

import io.connguard.agent.core.HostState;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The meters of one destination, every one tagged {@code host} and {@code port}, written down once
 * as {@link #SPECS} plus the wait timer, and registered either in the agent's shaded registry
 * ({@link #bind}) or, reflectively, in the application's own Micrometer ({@link AppRegistry}). All
 * but the wait timer read {@link HostState} when scraped, so they are exact whenever the host was
 * bound; the timer is fed by {@link HostMeterBinder} as waits end. Names follow Micrometer's
 * conventions (lower case, dot-separated; the registry adds units and {@code _total}); the README
 * lists them.
 */
final class HostMeters {

    static final String OPEN = "connguard.connections.open";
    static final String IDLE = "connguard.connections.idle";
    static final String IN_USE = "connguard.connections.in.use";
    static final String PEAK = "connguard.connections.peak";
    static final String LIMIT = "connguard.connections.limit";
    static final String QUEUED = "connguard.queue.size";
    static final String CONNECTS = "connguard.connects";
    static final String UNGOVERNED = "connguard.connects.ungoverned";
    static final String WAIT = "connguard.queue.wait";
    static final String TIMEOUTS = "connguard.queue.timeouts";
    static final String FULL = "connguard.queue.full";
    static final String RECLAIMED = "connguard.connections.reclaimed";
    static final String HANDED_OVER = "connguard.connections.handed.over";
    static final String RETRIES = "connguard.retries";
    static final String LEAKS = "connguard.leaks";

    static final String WAIT_DESCRIPTION = "time connects waited in line for a slot, whether they got one or timed out";
    static final double[] WAIT_PERCENTILES = {0.5, 0.95, 0.99};

    /** A gauge or a counter that reads one number of {@link HostState} when scraped. */
    record Spec(String name, boolean counter, String tagKey, String tagValue,
                ToDoubleFunction<HostState> value, String description) {
    }

    private static final String RETRIES_DESCRIPTION = "retried: another attempt after a refusal; exhausted:"
            + " requests whose retries ran out; budget_exceeded: refusals passed on because the retry budget was in use";
    private static final String LEAKS_DESCRIPTION =
            "age: borrowed and idle past CONNGUARD_LEAK_THRESHOLD; garbage: dropped without close()";

    static final List<Spec> SPECS = List.of(
            gauge(OPEN, HostState::open, "connections open now"),
            gauge(IDLE, HostState::idle, "open connections idle in a pool"),
            gauge(IN_USE, HostState::inUse, "open connections in use (open minus idle)"),
            gauge(PEAK, HostState::peakOpen, "most connections open at once (reset over JMX)"),
            gauge(LIMIT, HostState::limit, "the cap on open connections; 0 = no cap"),
            gauge(QUEUED, HostState::queued, "connects waiting in line for a slot now"),
            counter(CONNECTS, HostState::connects, "connects that got a slot"),
            counter(UNGOVERNED, HostState::ungoverned,
                    "connects let through over the limit because they must not wait (event loops, non-blocking)"),
            counter(TIMEOUTS, HostState::queueTimeouts,
                    "connects that gave up waiting for a slot (ConnectionLimitException)"),
            counter(FULL, HostState::queueFull,
                    "connects refused at once because the line was full (CONNGUARD_QUEUE_MAX)"),
            counter(RECLAIMED, HostState::reclaimed, "idle pooled connections closed to make room for waiting connects"),
            counter(HANDED_OVER, HostState::handOvers,
                    "connections handed from a request that ended straight to one waiting for its pool (reused)"),
            new Spec(RETRIES, true, "outcome", "retried", HostState::retries, RETRIES_DESCRIPTION),
            new Spec(RETRIES, true, "outcome", "exhausted", HostState::retriesExhausted, RETRIES_DESCRIPTION),
            new Spec(RETRIES, true, "outcome", "budget_exceeded", HostState::retryBudgetExceeded, RETRIES_DESCRIPTION),
            new Spec(LEAKS, true, "detector", "age", HostState::ageLeaks, LEAKS_DESCRIPTION),
            new Spec(LEAKS, true, "detector", "garbage", HostState::garbageLeaks, LEAKS_DESCRIPTION));

    static final String FLEET_LIMIT = "connguard.fleet.limit";
    static final String FLEET_PERMITS = "connguard.fleet.permits";
    static final String FLEET_IN_USE = "connguard.fleet.in.use";
    static final String FLEET_FALLBACK = "connguard.fleet.fallback";
    static final String FLEET_FALLBACKS = "connguard.fleet.fallbacks";
    static final String FLEET_LATENCY = "connguard.fleet.redis.latency";
    static final String FLEET_WAITS = "connguard.fleet.waits";

    /** For destinations with a fleet-wide cap only (CONNGUARD_FLEET_LIMITS). */
    static final List<Spec> FLEET_SPECS = List.of(
            gauge(FLEET_LIMIT, h -> h.fleet().cap(), "the fleet-wide cap on open connections"),
            gauge(FLEET_PERMITS, h -> h.fleet().allowance(),
                    "fleet permits this JVM holds (in use or spare); the fallback cap while Redis cannot be reached"),
            gauge(FLEET_IN_USE, h -> h.fleet().fleetInUse() < 0 ? Double.NaN : h.fleet().fleetInUse(),
                    "permits held by every JVM of the fleet together, as last seen"),
            gauge(FLEET_FALLBACK, h -> h.fleet().fleetMode() ? 0 : 1,
                    "1 while Redis cannot be reached and CONNGUARD_FLEET_FALLBACK_LIMIT applies, else 0"),
            counter(FLEET_FALLBACKS, h -> h.fleet().fallbacks(), "times this destination fell back to the local cap"),
            counter(FLEET_WAITS, h -> h.fleet().waits(),
                    "connects that had to wait for a fleet permit because none was spare in this JVM"),
            gauge(FLEET_LATENCY, h -> h.fleet().lastExchangeNanos() < 0 ? Double.NaN
                    : h.fleet().lastExchangeNanos() / 1e9, "seconds the last permit exchange with Redis took"));

    private HostMeters() {
    }

    /** The specs that apply to {@code h}. */
    static List<Spec> specs(HostState h) {
        if (h.fleet() == null) {
            return SPECS;
        }
        List<Spec> all = new java.util.ArrayList<>(SPECS);
        all.addAll(FLEET_SPECS);
        return all;
    }

    private static Spec gauge(String name, ToDoubleFunction<HostState> value, String description) {
        return new Spec(name, false, null, null, value, description);
    }

    private static Spec counter(String name, ToDoubleFunction<HostState> value, String description) {
        return new Spec(name, true, null, null, value, description);
    }

    /** {@code host}, {@code port} and the spec's own tag, as Micrometer's key-value list. */
    static String[] tags(HostState h, Spec spec) {
        String host = h.key().host();
        String port = Integer.toString(h.key().port());
        return spec == null || spec.tagKey() == null
                ? new String[] {"host", host, "port", port}
                : new String[] {"host", host, "port", port, spec.tagKey(), spec.tagValue()};
    }

    /** Registers the destination's meters in the agent's registry; returns the wait timer to record into. */
    static Timer bind(MeterRegistry registry, HostState h) {
        for (Spec s : specs(h)) {
            Tags tags = Tags.of(tags(h, s));
            if (s.counter()) {
                FunctionCounter.builder(s.name(), h, s.value()).tags(tags).description(s.description()).register(registry);
            } else {
                // Strong: the Governor never forgets a host, and a weakly held one would read NaN if it did.
                Gauge.builder(s.name(), h, s.value()).tags(tags).description(s.description())
                        .strongReference(true).register(registry);
            }
        }
        return Timer.builder(WAIT).tags(tags(h, null)).description(WAIT_DESCRIPTION)
                .publishPercentiles(WAIT_PERCENTILES).register(registry);
    }
}

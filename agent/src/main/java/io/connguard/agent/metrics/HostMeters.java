package io.connguard.agent.metrics;

import io.connguard.agent.core.HostState;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.util.function.ToDoubleFunction;

/**
 * The meters of one destination, every one tagged {@code host} and {@code port}. All but the wait
 * timer read {@link HostState} when scraped, so they are exact whenever the host was bound; the
 * timer is fed by {@link HostMeterBinder} as waits end. Names follow Micrometer's conventions
 * (lower case, dot-separated; the registry adds units and {@code _total}); the README lists them.
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
    static final String RETRIES = "connguard.retries";
    static final String LEAKS = "connguard.leaks";

    private HostMeters() {
    }

    /** Registers the destination's meters; returns the queue wait timer to record into. */
    static Timer bind(MeterRegistry registry, HostState h) {
        Tags tags = Tags.of("host", h.key().host(), "port", Integer.toString(h.key().port()));
        gauge(registry, OPEN, tags, h, HostState::open, "connections open now");
        gauge(registry, IDLE, tags, h, HostState::idle, "open connections idle in a pool");
        gauge(registry, IN_USE, tags, h, HostState::inUse, "open connections in use (open minus idle)");
        gauge(registry, PEAK, tags, h, HostState::peakOpen, "most connections open at once (reset over JMX)");
        gauge(registry, LIMIT, tags, h, HostState::limit, "the cap on open connections; 0 = no cap");
        gauge(registry, QUEUED, tags, h, HostState::queued, "connects waiting in line for a slot now");
        counter(registry, CONNECTS, tags, h, HostState::connects, "connects that got a slot");
        counter(registry, UNGOVERNED, tags, h, HostState::ungoverned,
                "connects let through over the limit because they must not wait (event loops, non-blocking)");
        counter(registry, TIMEOUTS, tags, h, HostState::queueTimeouts,
                "connects that gave up waiting for a slot (ConnectionLimitException)");
        counter(registry, FULL, tags, h, HostState::queueFull,
                "connects refused at once because the line was full (CONNGUARD_QUEUE_MAX)");
        counter(registry, RECLAIMED, tags, h, HostState::reclaimed,
                "idle pooled connections closed to make room for waiting connects");
        counter(registry, RETRIES, tags.and("outcome", "retried"), h, HostState::retries,
                "retried: another attempt after a refusal; exhausted: requests whose retries ran out;"
                        + " budget_exceeded: refusals passed on because the retry budget was in use");
        counter(registry, RETRIES, tags.and("outcome", "exhausted"), h, HostState::retriesExhausted, null);
        counter(registry, RETRIES, tags.and("outcome", "budget_exceeded"), h, HostState::retryBudgetExceeded, null);
        counter(registry, LEAKS, tags.and("detector", "age"), h, HostState::ageLeaks,
                "age: borrowed and idle past CONNGUARD_LEAK_THRESHOLD; garbage: dropped without close()");
        counter(registry, LEAKS, tags.and("detector", "garbage"), h, HostState::garbageLeaks, null);
        return Timer.builder(WAIT).tags(tags)
                .description("time connects waited in line for a slot, whether they got one or timed out")
                .publishPercentiles(0.5, 0.95, 0.99)
                .register(registry);
    }

    private static void gauge(MeterRegistry registry, String name, Tags tags, HostState h,
                              ToDoubleFunction<HostState> value, String description) {
        // Strong: the Governor never forgets a host, and a weakly held one would read NaN if it did.
        Gauge.builder(name, h, value).tags(tags).description(description).strongReference(true).register(registry);
    }

    private static void counter(MeterRegistry registry, String name, Tags tags, HostState h,
                                ToDoubleFunction<HostState> value, String description) {
        FunctionCounter.Builder<HostState> b = FunctionCounter.builder(name, h, value).tags(tags);
        if (description != null) {
            b.description(description);
        }
        b.register(registry);
    }
}

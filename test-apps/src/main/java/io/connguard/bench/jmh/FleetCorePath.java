package io.connguard.bench.jmh;

/**
 * What {@link FleetHookPathBenchmark} asks of the agent's core, so that it names no agent class
 * (see {@link AgentClasses}); implemented by {@link FleetCore}.
 */
public interface FleetCorePath {

    /**
     * Builds the core: {@code mode} {@code local}, or a fleet ({@code fleet}, {@code nearCap})
     * with {@code fleetCap} against a redis-server started now.
     */
    void start(String mode, int localLimit, int fleetCap, int threads) throws Exception;

    /** One connect+close; the connect's decision. */
    Object connectClose();

    /** Before a measured iteration. */
    void iterationStarted() throws Exception;

    /** After a measured iteration. */
    void iterationEnded() throws Exception;

    /** Prints the counts, checks the mode held throughout, stops the coordinator and Redis. */
    void stop() throws Exception;
}

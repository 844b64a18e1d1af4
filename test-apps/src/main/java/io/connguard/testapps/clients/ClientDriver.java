package io.connguard.testapps.clients;

import java.net.URI;
import java.util.List;

import io.connguard.testapps.common.Args;

/**
 * One HTTP client as the test apps use it: the load apps ({@code LoadClient}, {@code FleetStormApp},
 * the demo) call {@link #get}, {@code RetryApp} calls {@link #send}, the leak app
 * ({@code LeakScenario}) calls {@link #leak}, {@link #release} and {@link #fetch}. One class per
 * client, named for it ({@code Apache4Driver}, ...), so that the file name in a leak report's stack
 * says which client leaked; {@code ClientContract} in the integration tests runs the same
 * assertions against each. Adding a client is one driver here, one name in {@link #NAMES} and one
 * short contract class.
 */
public interface ClientDriver extends AutoCloseable {

    /**
     * The names the apps accept ({@code --client}, a plan step's {@code client=}); {@code jdk-async}
     * is {@code java.net.http.HttpClient} through {@code sendAsync}.
     */
    List<String> NAMES = List.of("url", "jdk", "jdk-async", "apache4", "wagon", "apache5", "okhttp");

    /** How an app builds its client: each test needs the client in one known configuration. */
    enum Setup {
        /**
         * A load thread's client: a pool of its own kept alive between requests, HTTP/1.1, the client's
         * automatic retries off so that a failed request is seen, not repeated.
         */
        LOAD,
        /**
         * The client as its users build it: defaults except for timeouts, its own retries included
         * (the retry tests model them). The connect timeout is also the request timeout.
         */
        DEFAULTS,
        /**
         * Its pool bounded to {@link Options#poolMax()} connections per route, so that responses
         * leaked without the agent exhaust it. The connect timeout is also the request timeout and,
         * where the client has one, the wait for a pooled connection.
         */
        BOUNDED_POOL
    }

    /**
     * What a driver is built with; {@code poolMax} bounds {@link Setup#BOUNDED_POOL}'s pool, and sizes
     * {@link Setup#LOAD}'s per route where it is above 0 and the client has such a limit (Apache's).
     */
    record Options(Setup setup, int connectTimeoutMs, int requestTimeoutMs, int poolMax) {

        public static Options load(int connectTimeoutMs, int requestTimeoutMs) {
            return new Options(Setup.LOAD, connectTimeoutMs, requestTimeoutMs, 0);
        }

        /** {@link #load}, with a pool that {@code threads} threads share (Apache's: as many per route). */
        public static Options shared(int connectTimeoutMs, int requestTimeoutMs, int threads) {
            return new Options(Setup.LOAD, connectTimeoutMs, requestTimeoutMs, threads);
        }

        public static Options defaults(int timeoutMs) {
            return new Options(Setup.DEFAULTS, timeoutMs, timeoutMs, 0);
        }

        public static Options boundedPool(int poolMax, int timeoutMs) {
            return new Options(Setup.BOUNDED_POOL, timeoutMs, timeoutMs, poolMax);
        }
    }

    /** The driver named {@code name} (one of {@link #NAMES}). */
    static ClientDriver create(String name, Options options) {
        return switch (name) {
            case "url" -> new UrlConnectionDriver(options);
            case "jdk" -> new JdkHttpClientDriver(options, false);
            case "jdk-async" -> new JdkHttpClientDriver(options, true);
            case "apache4" -> new Apache4Driver(options);
            case "wagon" -> new WagonApache4Driver(options);
            case "apache5" -> new Apache5Driver(options);
            case "okhttp" -> new OkHttpDriver(options);
            default -> throw new Args.UsageException("client must be one of " + NAMES + ", got '" + name + "'");
        };
    }

    /** The name ConnGuard gives this client in its log lines. */
    String agentName();

    /**
     * Load: one GET whose body is read to the end, so that the connection stays open for the next
     * request.
     *
     * @return {@code null} when the answer was a 200 whose body was read completely, otherwise the
     *         reason it failed (e.g. {@code status=401}); exceptions count as failures too
     */
    String get(URI uri) throws Exception;

    /**
     * Retry: one request whose whole answer is read, then closed.
     *
     * @param auth the {@code Authorization} header value, or null for none
     * @param body the request body (POST, PUT), or null for none
     */
    Answer send(String method, URI uri, String auth, byte[] body) throws Exception;

    /**
     * Leak: sends {@code GET uri} and returns the response without reading or closing it, the one
     * place where the application leaks. The borrowing call and {@link Site#here()} share one line.
     */
    Leak leak(URI uri) throws Exception;

    /** Closes, late, what {@link #leak} returned. */
    void release(Object response) throws Exception;

    /**
     * A well-behaved {@code GET}: reads the whole body as it arrives, closes everything; the bytes
     * read. Throws on anything but a 200.
     */
    long fetch(URI uri) throws Exception;

    /** False where the client keeps its connections reachable, so a dropped response never becomes garbage. */
    default boolean leaksBecomeGarbage() {
        return true;
    }

    @Override
    void close();

    /** What {@link #send}'s caller got: the status, the whole body and the headers the retry rules look at. */
    record Answer(int status, byte[] body, String retryAfter, String wwwAuthenticate, String refusal) {
    }

    /** What {@link #leak} returns: the open response (whatever the client calls it) and where it was taken. */
    record Leak(Object response, Site site) {
    }
}

package io.connguard.bench.jmh;

import io.connguard.bench.Loopback;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;
import org.apache.http.util.EntityUtils;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The cost of leak tracking per request: sequential HTTP/1.1 GETs over one kept-alive loopback
 * connection with a pooled client, so that every request borrows the connection from the client's
 * pool and gives it back (what the agent records: one {@code Borrow} in a map and a weak, for
 * OkHttp also a phantom, reference; a stack according to {@code CONNGUARD_LEAK_STACKS}; a "last
 * activity" time on every socket read and write unless {@code CONNGUARD_LEAK_THRESHOLD=off}).
 *
 * <p>Clients ({@code -p client=...}): {@code apache4} (Apache HttpClient 4.5, pooling connection
 * manager), {@code okhttp} (OkHttp 4, its connection pool), {@code urlconnection} (the JDK's
 * keep-alive cache) and {@code httpclient} ({@code java.net.http.HttpClient}, HTTP/1.1 pool).
 * Variants, one nested class each, differing only in the forked JVM's options:
 * {@link WithoutAgent}; the agent with {@link StacksOff}, {@link StacksSampled} (the default),
 * {@link StacksAll}; and {@link ThresholdOff} (default stacks, no age detector and no activity
 * tracking).
 *
 * <p>Each with-agent fork checks, after measuring, that it runs the settings it claims (the agent's
 * effective configuration over JMX), and every fork checks that the connection was reused. The
 * with-agent forks also hold one response open and find it in the agent's list of open connections
 * as lent out by this client: proof that the measured requests went through the borrow path.
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar org.openjdk.jmh.Main LeakTrackingBenchmark \
 *      -prof io.connguard.bench.jmh.ConnGuardAgentProfiler
 * </pre>
 * {@link io.connguard.bench.LeakTrackingBench} runs the same forks interleaved, round by round, and
 * prints the ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 6, time = 1) // on 2 busy CPUs Apache HttpClient 4 is still getting faster after 5 s
@Measurement(iterations = 4, time = 1)
@Threads(1)
public abstract class LeakTrackingBenchmark {

    /** A keep-alive benchmark that needed more connections than this did not measure keep-alive. */
    private static final int MAX_CONNECTIONS = 10;

    @Param({"apache4", "okhttp", "urlconnection", "httpclient"})
    public String client;

    private Loopback.TinyHttpServer server;
    private Client http;

    @Setup(Level.Trial)
    public void start() throws IOException {
        AgentVariant.checkAtSetup();
        server = new Loopback.TinyHttpServer();
        http = Client.create(client, URI.create(server.url()));
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        try {
            int connections = server.connectionsSeen();
            System.out.println("# client connections seen by the server: " + connections);
            if (connections > MAX_CONNECTIONS) {
                throw new IllegalStateException(connections + " client connections: keep-alive was not in effect");
            }
            if (AgentVariant.expectAgent()) {
                AgentVariant.checkLeakSettings();
                checkBorrowTracked();
            }
            AgentVariant.reportAtTearDown(1);
        } finally {
            try {
                http.close();
            } finally {
                server.close();
            }
        }
    }

    @Benchmark
    public int request() throws Exception {
        return http.request();
    }

    /**
     * Holds one response open and looks for its connection in the agent's open connections as lent
     * out by this client (with a stack when every borrow captures one, without when none does).
     * {@code java.net.http.HttpClient} gives its connection back as soon as it has read the 2-byte
     * body, before the application reads it, so for it the check is skipped.
     */
    private void checkBorrowTracked() throws Exception {
        String expected = http.poolName();
        if (expected == null) {
            return;
        }
        String stacks = System.getProperty("connguard.leak.stacks", "sampled");
        String[] open;
        try (Closeable held = http.hold()) {
            open = (String[]) AgentVariant.agentOperation("listOpenConnections");
        }
        for (String line : open) {
            if (line.contains(" client=" + expected + " ")) {
                int frames = AgentVariant.stackFrames(line);
                boolean hasStack = frames > 0;
                System.out.println("# borrow tracked: " + line.split("\n", 2)[0]
                        + (hasStack ? " (with a stack of " + frames + " frames)" : ""));
                if (stacks.equals("all") && !hasStack || stacks.equals("off") && hasStack) {
                    throw new IllegalStateException("leakStacks=" + stacks + " but the held borrow "
                            + (hasStack ? "has" : "has no") + " stack: " + line);
                }
                return;
            }
        }
        throw new IllegalStateException("a response of " + expected + " is held open, but the agent lists no"
                + " connection lent out by it, so the measured requests did not go through the borrow path: "
                + String.join(" | ", open));
    }

    /** One pooled client doing one fully read GET per {@link #request}. */
    abstract static class Client implements Closeable {

        static Client create(String name, URI uri) throws IOException {
            switch (name) {
                case "apache4":
                    return new Apache4(uri);
                case "okhttp":
                    return new OkHttp(uri);
                case "urlconnection":
                    return new UrlConnection(uri);
                case "httpclient":
                    return new JdkHttpClient(uri);
                default:
                    throw new IllegalArgumentException("client must be apache4, okhttp, urlconnection or httpclient,"
                            + " not '" + name + "'");
            }
        }

        /** A GET, body read to the end and closed: the connection goes back to the pool. */
        abstract int request() throws Exception;

        /** A GET whose response stays open (its connection lent out) until the result is closed. */
        abstract Closeable hold() throws Exception;

        /** The client name the agent reports for this client's borrows, or null to skip that check. */
        abstract String poolName();
    }

    static final class Apache4 extends Client {
        private final URI uri;
        private final CloseableHttpClient http;

        Apache4(URI uri) {
            this.uri = uri;
            PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager();
            pool.setMaxTotal(4);
            pool.setDefaultMaxPerRoute(4);
            this.http = HttpClients.custom().setConnectionManager(pool).disableAutomaticRetries().build();
        }

        @Override
        int request() throws IOException {
            try (CloseableHttpResponse response = http.execute(new HttpGet(uri))) {
                return EntityUtils.toByteArray(response.getEntity()).length;
            }
        }

        @Override
        Closeable hold() throws IOException {
            CloseableHttpResponse response = http.execute(new HttpGet(uri));
            return () -> {
                try (response) {
                    EntityUtils.consume(response.getEntity());
                }
            };
        }

        @Override
        String poolName() {
            return "Apache HttpClient 4";
        }

        @Override
        public void close() throws IOException {
            http.close();
        }
    }

    static final class OkHttp extends Client {
        private final OkHttpClient http;
        private final Request request;

        OkHttp(URI uri) {
            this.http = new OkHttpClient.Builder().proxy(Proxy.NO_PROXY).retryOnConnectionFailure(false)
                    .connectionPool(new ConnectionPool(4, 5, TimeUnit.MINUTES)).build();
            this.request = new Request.Builder().url(uri.toString()).build();
        }

        @Override
        int request() throws IOException {
            try (Response response = http.newCall(request).execute()) {
                return response.body().bytes().length;
            }
        }

        @Override
        Closeable hold() throws IOException {
            Response response = http.newCall(request).execute();
            return () -> {
                try (response) {
                    response.body().bytes();
                }
            };
        }

        @Override
        String poolName() {
            return "OkHttp";
        }

        @Override
        public void close() {
            http.dispatcher().executorService().shutdown();
            http.connectionPool().evictAll();
        }
    }

    static final class UrlConnection extends Client {
        private final URL url;

        UrlConnection(URI uri) throws IOException {
            this.url = uri.toURL();
        }

        @Override
        int request() throws IOException {
            HttpURLConnection c = (HttpURLConnection) url.openConnection(Proxy.NO_PROXY);
            try (InputStream in = c.getInputStream()) {
                return in.readAllBytes().length; // fully read + close: back to the keep-alive cache
            }
        }

        @Override
        Closeable hold() throws IOException {
            HttpURLConnection c = (HttpURLConnection) url.openConnection(Proxy.NO_PROXY);
            InputStream in = c.getInputStream();
            return () -> {
                try (in) {
                    in.readAllBytes();
                }
            };
        }

        @Override
        String poolName() {
            return "HttpURLConnection";
        }

        @Override
        public void close() {
        }
    }

    static final class JdkHttpClient extends Client {
        private final HttpClient http;
        private final HttpRequest request;

        JdkHttpClient(URI uri) {
            this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .proxy(HttpClient.Builder.NO_PROXY).connectTimeout(Duration.ofSeconds(10)).build();
            this.request = HttpRequest.newBuilder(uri).GET().build();
        }

        @Override
        int request() throws IOException, InterruptedException {
            return http.send(request, HttpResponse.BodyHandlers.ofByteArray()).body().length;
        }

        @Override
        Closeable hold() {
            return () -> {
            };
        }

        @Override
        String poolName() {
            return null;
        }

        @Override
        public void close() {
            // JDK 17's HttpClient has no close(); its selector thread is a daemon and the fork exits
        }
    }

    /*
     * jvmArgs = {}: the forks do not inherit the JMH host JVM's options (see KeepAliveBenchmark).
     * Every variant has the same options apart from the variant marker and the leak settings; the
     * agent reads -Dconnguard.* exactly as it reads the CONNGUARD_* environment variables.
     */

    /** No agent: the baseline of every ratio. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITHOUT_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class WithoutAgent extends LeakTrackingBenchmark {
    }

    /** The agent, no stack captured for any borrow. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000",
            "-Dconnguard.leak.stacks=off"})
    public static class StacksOff extends LeakTrackingBenchmark {
    }

    /** The agent with its defaults: a stack for 1 borrow in 64 (all once a leak was seen; none is here). */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000",
            "-Dconnguard.leak.stacks=sampled"})
    public static class StacksSampled extends LeakTrackingBenchmark {
    }

    /** The agent, a stack captured for every borrow. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000",
            "-Dconnguard.leak.stacks=all"})
    public static class StacksAll extends LeakTrackingBenchmark {
    }

    /** The agent with default stacks but no age detector: no activity time on socket reads and writes. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000",
            "-Dconnguard.leak.threshold=off"})
    public static class ThresholdOff extends LeakTrackingBenchmark {
    }
}

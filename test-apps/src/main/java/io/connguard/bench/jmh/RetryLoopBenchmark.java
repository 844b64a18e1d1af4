package io.connguard.bench.jmh;

import com.sun.net.httpserver.HttpServer;
import io.connguard.bench.Loopback;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.io.entity.EntityUtils;
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

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the retry hooks cost a whole request: sequential HTTP/1.1 GETs, each answered 200, over one
 * kept-alive loopback connection, with the clients of {@link LeakTrackingBenchmark}
 * ({@code urlconnection}, {@code httpclient}, {@code apache4}, {@code okhttp}) and Apache HttpClient
 * 5 ({@code apache5}, classic API, pooling connection manager). Three variants, differing only in
 * the forked JVM's options: {@link WithoutAgent}, the agent with its {@link Defaults} (retries on) and
 * the agent with retries off ({@link RetriesOff}, {@code CONNGUARD_RETRY_MAX_ATTEMPTS=1}); Defaults
 * against RetriesOff isolates the retry hooks from the agent's other per-request work (pool
 * awareness, leak tracking).
 *
 * <p>Every fork checks that one connection was reused and, after measuring, sends one request with
 * a fresh client of the same kind to a second loopback server that answers its first request
 * {@code 429} with {@code Retry-After: 0} and every later one {@code 200} (not 503: OkHttp itself
 * sends a request again once after a 503 with {@code Retry-After: 0}). With retries on, the client
 * must get the 200 after the server saw two requests and the agent counted one retry for that host;
 * with retries off or without the agent, the 429 after one request. So a fork that claims retries is
 * proven to run the retry path for this client, and one that claims none is proven not to.
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar org.openjdk.jmh.Main RetryLoopBenchmark \
 *      -prof io.connguard.bench.jmh.ConnGuardAgentProfiler
 * </pre>
 * {@link io.connguard.bench.RetryBench} runs the same forks interleaved, round by round, and prints
 * the paired ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 6, time = 1)
@Measurement(iterations = 4, time = 1)
@Threads(1)
public abstract class RetryLoopBenchmark {

    private static final int MAX_CONNECTIONS = 10;

    @Param({"urlconnection", "httpclient", "apache4", "okhttp", "apache5"})
    public String client;

    private Loopback.TinyHttpServer server;
    private LeakTrackingBenchmark.Client http;

    @Setup(Level.Trial)
    public void start() throws IOException {
        AgentVariant.checkAtSetup();
        server = new Loopback.TinyHttpServer();
        http = create(client, URI.create(server.url()));
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        try {
            int connections = server.connectionsSeen();
            System.out.println("# client connections seen by the server: " + connections);
            if (connections > MAX_CONNECTIONS) {
                throw new IllegalStateException(connections + " client connections: keep-alive was not in effect");
            }
            checkRetryPath();
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

    static LeakTrackingBenchmark.Client create(String name, URI uri) throws IOException {
        return name.equals("apache5") ? new Apache5(uri) : LeakTrackingBenchmark.Client.create(name, uri);
    }

    private static boolean expectRetries() {
        return AgentVariant.expectAgent() && !"1".equals(System.getProperty("connguard.retry.max.attempts"));
    }

    /** One request to a server that refuses the first request once: retried exactly when the variant says so. */
    private void checkRetryPath() throws Exception {
        boolean on = expectRetries();
        MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
        if (AgentVariant.expectAgent()) {
            ObjectName agent = await(jmx, new ObjectName("io.connguard:type=Agent"));
            String configuration = (String) jmx.getAttribute(agent, "Configuration");
            System.out.println("# connguard configuration: " + configuration);
            String attempts = System.getProperty("connguard.retry.max.attempts", "5");
            if (!(" " + configuration + " ").contains(" retryMaxAttempts=" + attempts + " ")) {
                throw new IllegalStateException("this fork claims retryMaxAttempts=" + attempts
                        + " but the agent runs with: " + configuration);
            }
        }
        AtomicInteger seen = new AtomicInteger();
        HttpServer refusing = HttpServer.create(new InetSocketAddress(Loopback.address(), 0), 16);
        refusing.createContext("/", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                in.readAllBytes();
            }
            boolean refuse = seen.incrementAndGet() == 1;
            byte[] body = (refuse ? "busy" : "ok").getBytes(StandardCharsets.US_ASCII);
            if (refuse) {
                exchange.getResponseHeaders().set("Retry-After", "0");
            }
            exchange.sendResponseHeaders(refuse ? 429 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        refusing.start();
        int port = refusing.getAddress().getPort();
        String outcome;
        try (LeakTrackingBenchmark.Client probe = create(client, URI.create("http://127.0.0.1:" + port + "/probe"))) {
            try {
                outcome = "body of " + probe.request() + " bytes";
            } catch (IOException e) {
                outcome = e.toString(); // HttpURLConnection's getInputStream throws on a 429
            }
        } finally {
            refusing.stop(0);
        }
        long retries = 0;
        if (AgentVariant.expectAgent()) {
            ObjectName host = new ObjectName("io.connguard:type=Host,host=127.0.0.1,port=" + port);
            if (on) {
                await(jmx, host);
            }
            retries = jmx.isRegistered(host) ? ((Number) jmx.getAttribute(host, "Retries")).longValue() : 0;
        }
        System.out.println("# retry probe: the refusing server saw " + seen.get() + " request(s), the agent counted "
                + retries + " retr" + (retries == 1 ? "y" : "ies") + "; " + outcome);
        int expectedRequests = on ? 2 : 1;
        if (seen.get() != expectedRequests || retries != (on ? 1 : 0)) {
            throw new IllegalStateException("the retry probe of " + client + " saw " + seen.get() + " request(s) and "
                    + retries + " retries, expected " + expectedRequests + " and " + (on ? 1 : 0)
                    + ": this fork is not the variant it claims (retries " + (on ? "on" : "off") + ")");
        }
    }

    private static ObjectName await(MBeanServer jmx, ObjectName name) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!jmx.isRegistered(name) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (!jmx.isRegistered(name)) {
            throw new IllegalStateException(name + " never appeared over JMX");
        }
        return name;
    }

    /** Apache HttpClient 5.5, classic API, pooling connection manager, no automatic retries (as apache4). */
    static final class Apache5 extends LeakTrackingBenchmark.Client {
        private final URI uri;
        private final CloseableHttpClient http;

        Apache5(URI uri) {
            this.uri = uri;
            PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                    .setMaxConnTotal(4).setMaxConnPerRoute(4).build();
            this.http = HttpClients.custom().setConnectionManager(pool).disableAutomaticRetries().build();
        }

        @Override
        int request() throws IOException {
            return http.execute(new org.apache.hc.client5.http.classic.methods.HttpGet(uri),
                    response -> EntityUtils.toByteArray(response.getEntity()).length);
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
        public void close() throws IOException {
            http.close();
        }
    }

    /** No agent: the baseline of every ratio. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITHOUT_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class WithoutAgent extends RetryLoopBenchmark {
    }

    /** The agent with its defaults: retries on. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class Defaults extends RetryLoopBenchmark {
    }

    /** The agent with retries off: {@code CONNGUARD_RETRY_MAX_ATTEMPTS=1}. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000",
            "-Dconnguard.retry.max.attempts=1"})
    public static class RetriesOff extends RetryLoopBenchmark {
    }
}

package io.connguard.bench.jmh;

import io.connguard.bench.Loopback;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/1.1 GET over a kept-alive loopback connection, with {@code HttpURLConnection} (JDK
 * keep-alive cache) and with {@code java.net.http.HttpClient} (its HTTP/1.1 pool), against a tiny
 * JDK {@code HttpServer} in the same JVM. No connect happens after the first request, so the
 * difference between {@link WithAgent} and {@link WithoutAgent} is the cost of the agent's
 * per-request pool hooks (connection taken from / returned to the pool).
 *
 * <p>The trial tear-down prints how many client connections the server saw; it fails the trial if
 * connections were not reused, because then this would be a connect benchmark.
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar org.openjdk.jmh.Main KeepAliveBenchmark \
 *      -prof io.connguard.bench.jmh.ConnGuardAgentProfiler
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1) // HttpClient is still getting faster after 3 s of warm-up
@Measurement(iterations = 5, time = 1)
@Threads(1)
public abstract class KeepAliveBenchmark {

    /** A keep-alive benchmark that needed more connections than this did not measure keep-alive. */
    private static final int MAX_CONNECTIONS = 10;

    private Loopback.TinyHttpServer server;
    private URL url;
    private HttpClient client;
    private HttpRequest request;

    @Setup(Level.Trial)
    public void start() throws IOException {
        AgentVariant.checkAtSetup();
        server = new Loopback.TinyHttpServer();
        URI uri = URI.create(server.url());
        url = uri.toURL();
        client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .proxy(HttpClient.Builder.NO_PROXY)
                .build();
        request = HttpRequest.newBuilder(uri).GET().build();
    }

    @TearDown(Level.Trial)
    public void stop() {
        try {
            int connections = server.connectionsSeen();
            System.out.println("# client connections seen by the server: " + connections);
            if (connections > MAX_CONNECTIONS) {
                throw new IllegalStateException(connections + " client connections: keep-alive was not in effect");
            }
            AgentVariant.reportAtTearDown(1);
        } finally {
            server.close();
        }
    }

    @Benchmark
    public int urlConnection() throws IOException {
        HttpURLConnection c = (HttpURLConnection) url.openConnection(Proxy.NO_PROXY);
        try (InputStream in = c.getInputStream()) {
            return in.readAllBytes().length; // fully read + close: the connection goes back to the keep-alive cache
        }
    }

    @Benchmark
    public int httpClient() throws IOException, InterruptedException {
        return client.send(request, HttpResponse.BodyHandlers.ofByteArray()).body().length;
    }

    /*
     * jvmArgs = {}: the forks do not inherit the JMH host JVM's options (JMH's default), so both
     * variants start from the same clean command line, and a -Dconnguard.agent.jar given to the host
     * does not reach the agent (which reports unknown connguard.* properties). Add options to both
     * variants with -jvmArgsPrepend; -jvmArgsAppend on the command line would replace the variant marker.
     */

    /** The agent attached by {@link ConnGuardAgentProfiler}; default limit 1000 per host, never reached. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class WithAgent extends KeepAliveBenchmark {
    }

    /** The same JVM options, without the agent. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITHOUT_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class WithoutAgent extends KeepAliveBenchmark {
    }
}

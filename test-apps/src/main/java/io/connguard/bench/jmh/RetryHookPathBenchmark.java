package io.connguard.bench.jmh;

import io.connguard.bootstrap.ConnGuardHooks;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okhttp3.internal.connection.RealCall;
import okhttp3.internal.http.RealInterceptorChain;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecRuntime;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.http.message.BasicClassicHttpResponse;
import org.apache.http.HttpHost;
import org.apache.http.HttpResponse;
import org.apache.http.HttpVersion;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.client.methods.HttpRequestWrapper;
import org.apache.http.client.protocol.HttpClientContext;
import org.apache.http.conn.routing.HttpRoute;
import org.apache.http.entity.ByteArrayEntity;
import org.apache.http.message.BasicHttpResponse;
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
import javax.net.ssl.SSLSession;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Constructor;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.ResponseInfo;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The retry hook path of one ordinary request (answered 200, nothing refused), per client, without
 * the network: exactly the hook calls that the rewritten client code makes for one request, in
 * their order, with real client objects built in memory, of the classes and in the state the
 * agent's glue sees them in at that point of a real request (it finds their methods by reflection,
 * so the classes matter). With the agent this is the whole per-request work of the retry feature
 * when nothing is refused: starting a {@code RetryCall} (host lookup, in-flight count), reading the
 * request's host, port, method, body and timeout, reading the status, ending the call; without it,
 * the no-op defaults. The difference is what retries cost every request.
 *
 * <ul>
 * <li>{@code urlconnection}: {@code HttpURLConnection.getInputStream0} enter ({@code retryStart}
 *     with the unconnected {@code sun.net.www.protocol.http.HttpURLConnection}) and exit
 *     ({@code retryReceived}, status 200, no exception).</li>
 * <li>{@code httpclient}: {@code HttpClientImpl.sendAsync} enter ({@code retryHandler}: wraps the
 *     caller's {@code BodyHandlers.ofByteArray()}) and exit ({@code retryResult}: wraps the returned
 *     future); the client then applies the (wrapped) handler to the 200 response head and completes
 *     its future, and the caller joins the future it was given.</li>
 * <li>{@code apache4}: {@code ProtocolExec.execute(route, request, context, execAware)} enter
 *     ({@code retryStart} with the {@code HttpRequestWrapper} of an {@code HttpGet}, the
 *     {@code HttpRoute} and an {@code HttpClientContext}) and exit ({@code retryResponse} with the
 *     {@code HttpResponseProxy} that {@code MainClientExec} returns).</li>
 * <li>{@code apache5}: {@code ProtocolExec.execute(request, scope, chain)} enter ({@code retryStart}
 *     with the request copy that {@code InternalHttpClient} passes down and a real
 *     {@code ExecChain.Scope}) and exit ({@code retryResponse} with a {@code CloseableHttpResponse}
 *     around a {@code BasicClassicHttpResponse}).</li>
 * <li>{@code okhttp}: {@code RetryAndFollowUpInterceptor.intercept} enter ({@code retryStart} with a
 *     real {@code RealInterceptorChain} of a real {@code RealCall}), {@code followUpRequest} exit
 *     ({@code retryFollowUp} with the 200 response, OkHttp's answer {@code null}: no follow-up) and
 *     {@code intercept} exit ({@code retryEnd}).</li>
 * </ul>
 *
 * The advice's own glue (the {@code Object[]} that the Apache 4 advice allocates, Byte Buddy's
 * argument copies) is in both variants here, so "with minus without" misses only the few
 * nanoseconds of the no-op calls themselves. Every fork checks, before measuring, that the hooks
 * do what its variant claims: with the agent's defaults, that a request is counted in flight at the
 * host while it runs and no longer once it ended (the JMX host view), that the JDK client's handler
 * and future are wrapped, and that nothing was retried; with {@code CONNGUARD_RETRY_MAX_ATTEMPTS=1}
 * and without the agent, that the hooks return nothing.
 *
 * <pre>
 * java -cp test-apps/target/connguard-test-apps.jar org.openjdk.jmh.Main RetryHookPathBenchmark \
 *      -prof io.connguard.bench.jmh.ConnGuardAgentProfiler
 * </pre>
 * {@link io.connguard.bench.RetryBench} {@code --hook-path} runs the same forks interleaved, round by
 * round, and prints the paired differences.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(1)
public abstract class RetryHookPathBenchmark {

    /** Nothing listens here: no hook on the 200 path connects; the host key is 127.0.0.1:18080. */
    static final String HOST = "127.0.0.1";
    static final int PORT = 18080;
    static final String URL_TEXT = "http://" + HOST + ":" + PORT + "/v2/library/alpine/manifests/latest";

    @Param({"urlconnection", "httpclient", "apache4", "apache5", "okhttp"})
    public String client;

    private int kind;

    // HttpURLConnection
    private HttpURLConnection urlConnection;
    private InputStream urlInput;

    // java.net.http.HttpClient
    private HttpClient jdkClient;
    private HttpRequest jdkRequest;
    private BodyHandler<byte[]> jdkHandler;
    private ResponseInfo jdkInfo;
    private FakeHttpResponse jdkResponse;

    // Apache HttpClient 4
    private HttpRequestWrapper apache4Request;
    private HttpRoute apache4Route;
    private HttpClientContext apache4Context;
    private HttpResponse apache4Response;

    // Apache HttpClient 5
    private ClassicHttpRequest apache5Request;
    private ExecChain.Scope apache5Scope;
    private ClassicHttpResponse apache5Response;

    // OkHttp
    private OkHttpClient okClient;
    private Interceptor.Chain okChain;
    private Response okResponse;

    @Setup(Level.Trial)
    public void start() throws Exception {
        AgentVariant.checkAtSetup();
        switch (client) {
            case "urlconnection":
                kind = ConnGuardHooks.CLIENT_URLCONNECTION;
                urlConnection = (HttpURLConnection) new URL(URL_TEXT).openConnection(Proxy.NO_PROXY);
                urlConnection.setRequestProperty("Accept", "application/json");
                urlInput = new ByteArrayInputStream("ok".getBytes(StandardCharsets.US_ASCII));
                break;
            case "httpclient":
                kind = ConnGuardHooks.CLIENT_HTTPCLIENT;
                // As LeakTrackingBenchmark's client. The advice sees HttpClientImpl, this is its facade:
                // the glue only uses HttpClient's public API (connectTimeout, and sendAsync for a retry).
                jdkClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .proxy(HttpClient.Builder.NO_PROXY).connectTimeout(Duration.ofSeconds(10)).build();
                jdkRequest = HttpRequest.newBuilder(URI.create(URL_TEXT)).header("Accept", "application/json")
                        .GET().build();
                jdkHandler = BodyHandlers.ofByteArray();
                HttpHeaders headers = HttpHeaders.of(Map.of("content-length", List.of("2"),
                        "content-type", List.of("text/plain")), (n, v) -> true);
                jdkInfo = new FakeResponseInfo(200, headers);
                jdkResponse = new FakeHttpResponse(jdkRequest, headers);
                break;
            case "apache4":
                kind = ConnGuardHooks.CLIENT_APACHE4;
                HttpHost target = new HttpHost(HOST, PORT, "http");
                HttpGet get = new HttpGet(URL_TEXT);
                get.setHeader("Accept", "application/json");
                apache4Request = HttpRequestWrapper.wrap(get, target); // what InternalHttpClient passes down
                apache4Route = new HttpRoute(target);
                apache4Context = HttpClientContext.create();
                apache4Context.setAttribute(HttpClientContext.HTTP_ROUTE, apache4Route); // as InternalHttpClient does
                apache4Context.setAttribute(HttpClientContext.HTTP_TARGET_HOST, target);
                BasicHttpResponse r4 = new BasicHttpResponse(HttpVersion.HTTP_1_1, 200, "OK");
                r4.setEntity(new ByteArrayEntity("ok".getBytes(StandardCharsets.US_ASCII)));
                r4.setHeader("Content-Length", "2");
                apache4Response = responseProxy(r4);
                break;
            case "apache5":
                kind = ConnGuardHooks.CLIENT_APACHE5;
                org.apache.hc.core5.http.HttpHost target5 = new org.apache.hc.core5.http.HttpHost("http", HOST, PORT);
                org.apache.hc.client5.http.classic.methods.HttpGet get5 =
                        new org.apache.hc.client5.http.classic.methods.HttpGet(URL_TEXT);
                get5.setHeader("Accept", "application/json");
                apache5Request = ClassicRequestBuilder.copy(get5).build(); // what InternalHttpClient passes down
                org.apache.hc.client5.http.protocol.HttpClientContext context5 =
                        org.apache.hc.client5.http.protocol.HttpClientContext.create();
                apache5Scope = new ExecChain.Scope("ex-00000001", new org.apache.hc.client5.http.HttpRoute(target5),
                        get5, stubRuntime(), context5);
                BasicClassicHttpResponse r5 = new BasicClassicHttpResponse(200, "OK");
                r5.setEntity(new org.apache.hc.core5.http.io.entity.ByteArrayEntity("ok".getBytes(StandardCharsets.US_ASCII),
                        ContentType.TEXT_PLAIN));
                apache5Response = CloseableHttpResponse.adapt(r5);
                break;
            case "okhttp":
                kind = ConnGuardHooks.CLIENT_OKHTTP;
                okClient = new OkHttpClient.Builder().proxy(Proxy.NO_PROXY).build();
                Request request = new Request.Builder().url(URL_TEXT).header("Accept", "application/json").build();
                RealCall call = (RealCall) okClient.newCall(request);
                // The chain that RetryAndFollowUpInterceptor.intercept gets: index 1, no exchange yet.
                okChain = new RealInterceptorChain(call, okClient.interceptors(), 1, null, request,
                        okClient.connectTimeoutMillis(), okClient.readTimeoutMillis(), okClient.writeTimeoutMillis());
                okResponse = new Response.Builder().request(request).protocol(Protocol.HTTP_1_1).code(200).message("OK")
                        .header("Content-Type", "text/plain")
                        .body(ResponseBody.create("ok", MediaType.get("text/plain"))).build();
                break;
            default:
                throw new IllegalArgumentException("client must be urlconnection, httpclient, apache4, apache5 or okhttp,"
                        + " not '" + client + "'");
        }
        checkVariant();
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        if (expectRetries()) {
            ObjectName host = hostView();
            int inFlight = ((Number) server().getAttribute(host, "RequestsInFlight")).intValue();
            long retries = ((Number) server().getAttribute(host, "Retries")).longValue();
            System.out.println("# connguard retries after the run: " + host + " RequestsInFlight=" + inFlight
                    + " Retries=" + retries);
            if (inFlight != 0 || retries != 0) {
                throw new IllegalStateException("after the run " + host + " has RequestsInFlight=" + inFlight
                        + " Retries=" + retries + ", expected 0 and 0: the measured hook sequence is not balanced");
            }
        }
        if (okClient != null) {
            okClient.dispatcher().executorService().shutdown();
        }
    }

    @Benchmark
    public Object request() {
        switch (kind) {
            case ConnGuardHooks.CLIENT_URLCONNECTION:
                return urlConnection();
            case ConnGuardHooks.CLIENT_HTTPCLIENT:
                return httpClient();
            case ConnGuardHooks.CLIENT_APACHE4:
                return apache4();
            case ConnGuardHooks.CLIENT_APACHE5:
                return apache5();
            default:
                return okHttp();
        }
    }

    private Object urlConnection() {
        Object call = ConnGuardHooks.retryStart(ConnGuardHooks.CLIENT_URLCONNECTION, urlConnection, null);
        // The exit advice returns at once when the enter returned null (as the hook does itself).
        // responses (sun.net.www.MessageHeader) is not read for a response without an exception.
        ConnGuardHooks.retryReceived(call, urlConnection, 200, null, urlInput, null, false, null);
        return call;
    }

    private Object httpClient() {
        Object handler = ConnGuardHooks.retryHandler(ConnGuardHooks.CLIENT_HTTPCLIENT, jdkClient, jdkRequest, jdkHandler, null);
        CompletableFuture<FakeHttpResponse> internal = new CompletableFuture<>(); // the client's MinimalFuture
        Object returned = ConnGuardHooks.retryResult(ConnGuardHooks.CLIENT_HTTPCLIENT, handler, internal);
        BodySubscriber<?> subscriber = ((BodyHandler<?>) handler).apply(jdkInfo); // on the response head
        internal.complete(jdkResponse); // the body was read
        Object response = ((CompletableFuture<?>) returned).getNow(null); // the caller's send() gets it
        return response != null ? response : subscriber;
    }

    private Object apache4() {
        Object call = ConnGuardHooks.retryStart(ConnGuardHooks.CLIENT_APACHE4, apache4Request,
                new Object[] {apache4Route, apache4Context}); // the enter advice's array
        ConnGuardHooks.retryResponse(call, apache4Response, null);
        return call;
    }

    private Object apache5() {
        Object call = ConnGuardHooks.retryStart(ConnGuardHooks.CLIENT_APACHE5, apache5Request, apache5Scope);
        ConnGuardHooks.retryResponse(call, apache5Response, null);
        return call;
    }

    private Object okHttp() {
        Object call = ConnGuardHooks.retryStart(ConnGuardHooks.CLIENT_OKHTTP, null, okChain);
        Object followUp = ConnGuardHooks.retryFollowUp(ConnGuardHooks.CLIENT_OKHTTP, okResponse, null);
        ConnGuardHooks.retryEnd(call);
        return followUp == null ? call : followUp;
    }

    // --- what the fork claims ----------------------------------------------------------------------

    private static boolean expectRetries() {
        return AgentVariant.expectAgent() && !"1".equals(System.getProperty("connguard.retry.max.attempts"));
    }

    /**
     * Before measuring: the hooks do what this variant claims. With retries on, one request is seen
     * in flight at the host between start and end and not after, and nothing is retried.
     */
    private void checkVariant() throws Exception {
        if (AgentVariant.expectAgent()) {
            String configuration = (String) server().getAttribute(agentView(), "Configuration");
            System.out.println("# connguard configuration: " + configuration);
            String attempts = System.getProperty("connguard.retry.max.attempts", "5");
            if (!(" " + configuration + " ").contains(" retryMaxAttempts=" + attempts + " ")) {
                throw new IllegalStateException("this fork claims retryMaxAttempts=" + attempts
                        + " but the agent runs with: " + configuration);
            }
        }
        boolean on = expectRetries();
        if (kind == ConnGuardHooks.CLIENT_HTTPCLIENT) {
            Object handler = ConnGuardHooks.retryHandler(ConnGuardHooks.CLIENT_HTTPCLIENT, jdkClient, jdkRequest, jdkHandler, null);
            if ((handler != jdkHandler) != on) {
                throw new IllegalStateException("the JDK client's body handler was " + (on ? "not " : "")
                        + "wrapped (" + handler.getClass().getName() + "), so this is not the variant it claims");
            }
            CompletableFuture<FakeHttpResponse> internal = new CompletableFuture<>();
            Object returned = ConnGuardHooks.retryResult(ConnGuardHooks.CLIENT_HTTPCLIENT, handler, internal);
            if ((returned != internal) != on) {
                throw new IllegalStateException("the JDK client's future was " + (on ? "not " : "") + "wrapped");
            }
            if (on) {
                requireInFlight(1);
            }
            ((BodyHandler<?>) handler).apply(jdkInfo);
            internal.complete(jdkResponse);
            if (((CompletableFuture<?>) returned).getNow(null) != jdkResponse) {
                throw new IllegalStateException("the caller's future did not complete with the response");
            }
            if (on) {
                requireInFlight(0);
            }
            System.out.println("# retry hooks checked: " + (on ? "handler and future wrapped, request counted in"
                    + " flight and ended" : "handler and future passed through"));
            return;
        }
        Object call;
        switch (kind) {
            case ConnGuardHooks.CLIENT_URLCONNECTION:
                call = ConnGuardHooks.retryStart(kind, urlConnection, null);
                break;
            case ConnGuardHooks.CLIENT_APACHE4:
                call = ConnGuardHooks.retryStart(kind, apache4Request, new Object[] {apache4Route, apache4Context});
                break;
            case ConnGuardHooks.CLIENT_APACHE5:
                call = ConnGuardHooks.retryStart(kind, apache5Request, apache5Scope);
                break;
            default:
                call = ConnGuardHooks.retryStart(kind, null, okChain);
                break;
        }
        if ((call != null) != on) {
            throw new IllegalStateException("retryStart returned " + call + " for " + client + ", so this fork is"
                    + " not the variant it claims (retries " + (on ? "on" : "off") + ")");
        }
        if (on) {
            requireInFlight(1);
        }
        switch (kind) {
            case ConnGuardHooks.CLIENT_URLCONNECTION:
                ConnGuardHooks.retryReceived(call, urlConnection, 200, null, urlInput, null, false, null);
                break;
            case ConnGuardHooks.CLIENT_APACHE4:
                ConnGuardHooks.retryResponse(call, apache4Response, null);
                break;
            case ConnGuardHooks.CLIENT_APACHE5:
                ConnGuardHooks.retryResponse(call, apache5Response, null);
                break;
            default:
                if (ConnGuardHooks.retryFollowUp(kind, okResponse, null) != null) {
                    throw new IllegalStateException("a 200 got a follow-up request");
                }
                ConnGuardHooks.retryEnd(call);
                break;
        }
        if (on) {
            requireInFlight(0);
        }
        System.out.println("# retry hooks checked: " + (on ? "request counted in flight by " + call + " and ended"
                : "retryStart returned null"));
    }

    private static void requireInFlight(int expected) throws Exception {
        ObjectName host = hostView();
        int inFlight = ((Number) server().getAttribute(host, "RequestsInFlight")).intValue();
        if (inFlight != expected) {
            throw new IllegalStateException(host + " RequestsInFlight=" + inFlight + ", expected " + expected
                    + ": the retry hooks did not count this request as the agent's defaults would");
        }
    }

    private static MBeanServer server() {
        return ManagementFactory.getPlatformMBeanServer();
    }

    private static ObjectName agentView() throws Exception {
        return await(new ObjectName("io.connguard:type=Agent"));
    }

    private static ObjectName hostView() throws Exception {
        return await(new ObjectName("io.connguard:type=Host,host=" + HOST + ",port=" + PORT));
    }

    private static ObjectName await(ObjectName name) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!server().isRegistered(name) && System.nanoTime() < deadline) {
            Thread.sleep(20); // the agent registers its MBeans on its own thread
        }
        if (!server().isRegistered(name)) {
            throw new IllegalStateException(name + " never appeared over JMX");
        }
        return name;
    }

    // --- client objects ----------------------------------------------------------------------------

    /** Apache 4's {@code MainClientExec} returns its package-private {@code HttpResponseProxy}. */
    private static HttpResponse responseProxy(HttpResponse original) throws Exception {
        Class<?> proxy = Class.forName("org.apache.http.impl.execchain.HttpResponseProxy");
        Class<?> holder = Class.forName("org.apache.http.impl.execchain.ConnectionHolder");
        Constructor<?> make = proxy.getDeclaredConstructor(HttpResponse.class, holder);
        make.setAccessible(true);
        return (HttpResponse) make.newInstance(original, null);
    }

    /** The scope's execution runtime; the hooks never touch it. */
    private static ExecRuntime stubRuntime() {
        return (ExecRuntime) java.lang.reflect.Proxy.newProxyInstance(ExecRuntime.class.getClassLoader(),
                new Class<?>[] {ExecRuntime.class}, (p, m, a) -> {
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    /** The response head the JDK client hands the body handler ({@code ResponseInfoImpl}). */
    static final class FakeResponseInfo implements ResponseInfo {
        private final int status;
        private final HttpHeaders headers;

        FakeResponseInfo(int status, HttpHeaders headers) {
            this.status = status;
            this.headers = headers;
        }

        @Override
        public int statusCode() {
            return status;
        }

        @Override
        public HttpHeaders headers() {
            return headers;
        }

        @Override
        public HttpClient.Version version() {
            return HttpClient.Version.HTTP_1_1;
        }
    }

    /** The JDK client's response ({@code HttpResponseImpl}). */
    static final class FakeHttpResponse implements java.net.http.HttpResponse<Object> {
        private final HttpRequest request;
        private final HttpHeaders headers;

        FakeHttpResponse(HttpRequest request, HttpHeaders headers) {
            this.request = request;
            this.headers = headers;
        }

        @Override
        public int statusCode() {
            return 200;
        }

        @Override
        public HttpRequest request() {
            return request;
        }

        @Override
        public Optional<java.net.http.HttpResponse<Object>> previousResponse() {
            return Optional.empty();
        }

        @Override
        public HttpHeaders headers() {
            return headers;
        }

        @Override
        public Object body() {
            return "ok".getBytes(StandardCharsets.US_ASCII);
        }

        @Override
        public Optional<SSLSession> sslSession() {
            return Optional.empty();
        }

        @Override
        public URI uri() {
            return request.uri();
        }

        @Override
        public HttpClient.Version version() {
            return HttpClient.Version.HTTP_1_1;
        }
    }

    /*
     * jvmArgs = {}: the forks do not inherit the JMH host JVM's options. The variants differ only
     * in the variant marker and the retry setting; the agent reads -Dconnguard.* exactly as it reads
     * the CONNGUARD_* environment variables.
     */

    /** No agent: the hooks are the bootstrap's no-op defaults (here only because the test-apps jar has them). */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITHOUT_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class WithoutAgent extends RetryHookPathBenchmark {
    }

    /** The agent with its defaults: retries on (5 attempts, 429/503 to GET/HEAD). */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000"})
    public static class Defaults extends RetryHookPathBenchmark {
    }

    /** The agent with retries switched off: {@code CONNGUARD_RETRY_MAX_ATTEMPTS=1}. */
    @Fork(value = 1, jvmArgs = {}, jvmArgsAppend = {AgentVariant.WITH_AGENT, "-Dconnguard.max.per.host=1000",
            "-Dconnguard.retry.max.attempts=1"})
    public static class RetriesOff extends RetryHookPathBenchmark {
    }
}

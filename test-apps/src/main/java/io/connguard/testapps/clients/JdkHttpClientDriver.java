package io.connguard.testapps.clients;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@link HttpClient}: {@link Setup#DEFAULTS} keeps its defaults (HTTP/2 preferred), the others
 * speak HTTP/1.1; a connect timeout, and a request timeout on each request. {@code async} sends
 * through {@code sendAsync} ({@link #send} only). It has no pool bound to set. Its leaked
 * connections never become garbage: its selector thread keeps them reachable.
 */
public final class JdkHttpClientDriver implements ClientDriver {

    private final HttpClient client;
    private final Duration timeout;
    private final boolean async;
    /** The leak app leaves it open: close() would wait for the exchanges it leaked on purpose. */
    private final boolean closeable;

    JdkHttpClientDriver(Options options, boolean async) {
        HttpClient.Builder builder = HttpClient.newBuilder();
        if (options.setup() != Setup.DEFAULTS) {
            builder.version(HttpClient.Version.HTTP_1_1);
        }
        if (options.connectTimeoutMs() > 0) {
            builder.connectTimeout(Duration.ofMillis(options.connectTimeoutMs()));
        }
        this.client = builder.build();
        this.timeout = options.requestTimeoutMs() > 0 ? Duration.ofMillis(options.requestTimeoutMs()) : null;
        this.async = async;
        this.closeable = options.setup() != Setup.BOUNDED_POOL;
    }

    @Override
    public String agentName() {
        return "java.net.http.HttpClient";
    }

    @Override
    public String get(URI uri) throws Exception {
        HttpResponse<byte[]> response = client.send(request(uri).GET().build(), BodyHandlers.ofByteArray());
        OptionalLong expected = response.headers().firstValueAsLong("content-length");
        return Bodies.judge(response.statusCode(), expected.orElse(-1), response.body().length);
    }

    @Override
    public Answer send(String method, URI uri, String auth, byte[] body) throws Exception {
        HttpRequest.Builder builder = request(uri).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (auth != null) {
            builder.header("Authorization", auth);
        }
        if (body != null) {
            builder.header("Content-Type", "application/octet-stream");
        }
        HttpRequest request = builder.build();
        HttpResponse<byte[]> response;
        if (async) {
            try {
                response = client.sendAsync(request, BodyHandlers.ofByteArray())
                        .get(timeout != null ? timeout.toMillis() + 60_000L : 600_000L, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
        } else {
            response = client.send(request, BodyHandlers.ofByteArray());
        }
        return new Answer(response.statusCode(), response.body() == null ? new byte[0] : response.body(),
                response.headers().firstValue("Retry-After").orElse(null),
                response.headers().firstValue("WWW-Authenticate").orElse(null),
                response.headers().firstValue("X-Refusal").orElse(null));
    }

    @Override
    public Leak leak(URI uri) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri).GET().build();
        HttpResponse<InputStream> response = client.send(request, BodyHandlers.ofInputStream()); Site site = Site.here(); // LEAK: body never read, never closed
        return new Leak(response, site);
    }

    @Override
    public void release(Object response) throws IOException {
        ((InputStream) ((HttpResponse<?>) response).body()).close(); // BodyHandlers.ofInputStream
    }

    @Override
    public long fetch(URI uri) throws IOException, InterruptedException {
        HttpResponse<InputStream> response = client.send(request(uri).GET().build(), BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            Bodies.expectOk(response.statusCode(), uri);
            return Bodies.drain(body);
        }
    }

    @Override
    public boolean leaksBecomeGarbage() {
        return false;
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri);
        return timeout == null ? builder : builder.timeout(timeout);
    }

    /** HttpClient is AutoCloseable from Java 21 on; on 17 its threads simply die with the JVM. */
    @Override
    public void close() {
        Object maybeCloseable = client;
        if (closeable && maybeCloseable instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort
            }
        }
    }
}

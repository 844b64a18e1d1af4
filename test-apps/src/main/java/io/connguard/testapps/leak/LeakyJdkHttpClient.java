package io.connguard.testapps.leak;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;

/**
 * An application that leaks a {@link java.net.http.HttpClient} response: it asks for the body as
 * an {@link InputStream} and never reads nor closes it, in {@link #leak}; the connection cannot go
 * back to the client's pool. There is no drop mode: the client's selector thread keeps its
 * connections reachable, so a dropped response never becomes garbage. Runs standalone:
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.leak.LeakyJdkHttpClient --port PORT --mode hold|slow|clean
 * </pre>
 * See {@link LeakScenario} for the modes and the output.
 */
public final class LeakyJdkHttpClient implements LeakyClient {

    private final HttpClient client;
    private final Duration timeout;

    private LeakyJdkHttpClient(LeakScenario.Settings settings) {
        this.timeout = Duration.ofMillis(settings.timeoutMs());
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .build();
    }

    public static void main(String[] args) {
        LeakScenario.run("LeakyJdkHttpClient", args, LeakyJdkHttpClient::new, false);
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
        HttpRequest request = HttpRequest.newBuilder(uri).GET().timeout(timeout).build();
        HttpResponse<InputStream> response = client.send(request, BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            LeakScenario.expectOk(response.statusCode(), uri);
            return LeakScenario.drain(body);
        }
    }

    @Override
    public void close() {
        // HttpClient is AutoCloseable only from JDK 21; the JVM exits right after
    }
}

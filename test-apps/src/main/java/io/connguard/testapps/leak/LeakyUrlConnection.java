package io.connguard.testapps.leak;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;

/**
 * An application that leaks an {@link HttpURLConnection} response: it opens the body stream and
 * never reads it to the end nor closes it, in {@link #leak}. Runs standalone:
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.leak.LeakyUrlConnection --port PORT --mode hold|drop|slow|clean
 * </pre>
 * See {@link LeakScenario} for the modes and the output.
 */
public final class LeakyUrlConnection implements LeakyClient {

    private final int timeoutMs;

    private LeakyUrlConnection(LeakScenario.Settings settings) {
        this.timeoutMs = settings.timeoutMs();
    }

    public static void main(String[] args) {
        LeakScenario.run("LeakyUrlConnection", args, LeakyUrlConnection::new, true);
    }

    @Override
    public Leak leak(URI uri) throws IOException {
        HttpURLConnection connection = open(uri);
        InputStream body = connection.getInputStream(); Site site = Site.here(); // LEAK: never read to the end, never closed
        return new Leak(new Held(connection, body), site);
    }

    @Override
    public void release(Object response) throws IOException {
        ((Held) response).body().close();
    }

    @Override
    public long fetch(URI uri) throws IOException {
        HttpURLConnection connection = open(uri);
        LeakScenario.expectOk(connection.getResponseCode(), uri);
        try (InputStream body = connection.getInputStream()) {
            return LeakScenario.drain(body); // read to the end and closed: the connection goes back to the keep-alive cache
        }
    }

    private HttpURLConnection open(URI uri) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
        connection.setConnectTimeout(timeoutMs);
        connection.setReadTimeout(timeoutMs);
        connection.setUseCaches(false);
        return connection;
    }

    @Override
    public void close() {
        // nothing: the keep-alive cache belongs to the JDK
    }

    private record Held(HttpURLConnection connection, InputStream body) {
    }
}

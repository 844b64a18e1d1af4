package io.connguard.testapps.leak;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * An application that leaks an OkHttp response: it never reads nor closes the {@link Response}
 * body, in {@link #leak}, so its connection stays allocated to the call and never goes back to the
 * {@link ConnectionPool}. Runs standalone:
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.leak.LeakyOkHttp --port PORT --mode hold|drop|slow|clean
 * </pre>
 * See {@link LeakScenario} for the modes and the output.
 */
public final class LeakyOkHttp implements LeakyClient {

    private final OkHttpClient client;

    private LeakyOkHttp(LeakScenario.Settings settings) {
        Duration timeout = Duration.ofMillis(settings.timeoutMs());
        client = new OkHttpClient.Builder()
                .connectionPool(new ConnectionPool(settings.poolMax(), 5, TimeUnit.MINUTES))
                .connectTimeout(timeout) // ConnGuard waits for a slot at most this long
                .readTimeout(timeout)
                .build();
    }

    public static void main(String[] args) {
        LeakScenario.run("LeakyOkHttp", args, LeakyOkHttp::new, true);
    }

    @Override
    public Leak leak(URI uri) throws IOException {
        Request request = new Request.Builder().url(uri.toString()).build();
        Response response = client.newCall(request).execute(); Site site = Site.here(); // LEAK: body never read, never closed
        return new Leak(response, site);
    }

    @Override
    public void release(Object response) {
        ((Response) response).close();
    }

    @Override
    public long fetch(URI uri) throws IOException {
        Request request = new Request.Builder().url(uri.toString()).build();
        try (Response response = client.newCall(request).execute()) {
            LeakScenario.expectOk(response.code(), uri);
            ResponseBody body = response.body();
            try (InputStream in = body.byteStream()) {
                return LeakScenario.drain(in);
            }
        }
    }

    @Override
    public void close() {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}

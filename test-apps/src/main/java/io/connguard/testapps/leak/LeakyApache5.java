package io.connguard.testapps.leak;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;

import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.util.Timeout;

/**
 * An application that leaks an Apache HttpClient 5 (classic) response: it never reads the entity
 * nor closes the {@link CloseableHttpResponse}, in {@link #leak}, so the connection endpoint stays
 * leased from the {@link PoolingHttpClientConnectionManager} (per-route maximum {@code --pool-max}).
 * Runs standalone:
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.leak.LeakyApache5 --port PORT --mode hold|drop|slow|clean
 * </pre>
 * See {@link LeakScenario} for the modes and the output.
 */
public final class LeakyApache5 implements LeakyClient {

    private final CloseableHttpClient client;

    private LeakyApache5(LeakScenario.Settings settings) {
        Timeout timeout = Timeout.ofMilliseconds(settings.timeoutMs());
        PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(settings.poolMax())
                .setMaxConnPerRoute(settings.poolMax())
                .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(timeout).setSocketTimeout(timeout).build())
                .build();
        RequestConfig config = RequestConfig.custom()
                .setConnectionRequestTimeout(timeout) // how long to wait for a connection from the pool
                .setResponseTimeout(timeout)
                .build();
        client = HttpClients.custom().setConnectionManager(pool).setDefaultRequestConfig(config).build();
    }

    public static void main(String[] args) {
        LeakScenario.run("LeakyApache5", args, LeakyApache5::new, true);
    }

    /** {@code execute(request)} returning the response is deprecated in 5.x, and it is what leaking code calls. */
    @Override
    @SuppressWarnings("deprecation")
    public Leak leak(URI uri) throws IOException {
        HttpGet get = new HttpGet(uri);
        CloseableHttpResponse response = client.execute(get); Site site = Site.here(); // LEAK: never consumed, never closed
        return new Leak(response, site);
    }

    @Override
    public void release(Object response) throws IOException {
        ((CloseableHttpResponse) response).close();
    }

    @Override
    public long fetch(URI uri) throws IOException {
        return client.execute(new HttpGet(uri), response -> {
            LeakScenario.expectOk(response.getCode(), uri);
            HttpEntity entity = response.getEntity();
            try (InputStream body = entity.getContent()) {
                return LeakScenario.drain(body);
            }
        });
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}

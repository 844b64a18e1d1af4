package io.connguard.testapps.leak;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;

import org.apache.http.HttpEntity;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;

/**
 * An application that leaks an Apache HttpClient 4 response: it never reads the entity nor closes
 * the {@link CloseableHttpResponse}, in {@link #leak}, so the connection stays leased from the
 * {@link PoolingHttpClientConnectionManager} (per-route maximum {@code --pool-max}). Runs standalone:
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.leak.LeakyApache4 --port PORT --mode hold|drop|slow|clean
 * </pre>
 * See {@link LeakScenario} for the modes and the output. {@link LeakyWagonApache4} is the same with
 * Maven's relocated copy of the client.
 */
public final class LeakyApache4 implements LeakyClient {

    private final CloseableHttpClient client;

    private LeakyApache4(LeakScenario.Settings settings) {
        PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager();
        pool.setMaxTotal(settings.poolMax());
        pool.setDefaultMaxPerRoute(settings.poolMax());
        RequestConfig config = RequestConfig.custom()
                .setConnectTimeout(settings.timeoutMs())
                .setConnectionRequestTimeout(settings.timeoutMs()) // how long to wait for a connection from the pool
                .setSocketTimeout(settings.timeoutMs())
                .build();
        client = HttpClients.custom().setConnectionManager(pool).setDefaultRequestConfig(config).build();
    }

    public static void main(String[] args) {
        LeakScenario.run("LeakyApache4", args, LeakyApache4::new, true);
    }

    @Override
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
        try (CloseableHttpResponse response = client.execute(new HttpGet(uri))) {
            LeakScenario.expectOk(response.getStatusLine().getStatusCode(), uri);
            HttpEntity entity = response.getEntity();
            try (InputStream body = entity.getContent()) {
                return LeakScenario.drain(body);
            }
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}

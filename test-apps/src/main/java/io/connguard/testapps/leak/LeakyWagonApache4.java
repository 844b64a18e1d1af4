package io.connguard.testapps.leak;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;

import org.apache.maven.wagon.providers.http.httpclient.HttpEntity;
import org.apache.maven.wagon.providers.http.httpclient.client.config.RequestConfig;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.CloseableHttpResponse;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpGet;
import org.apache.maven.wagon.providers.http.httpclient.impl.client.CloseableHttpClient;
import org.apache.maven.wagon.providers.http.httpclient.impl.client.HttpClients;
import org.apache.maven.wagon.providers.http.httpclient.impl.conn.PoolingHttpClientConnectionManager;

/**
 * {@link LeakyApache4} with the copy of Apache HttpClient 4 that Maven's HTTP transport ships,
 * relocated under {@code org.apache.maven.wagon.providers.http.httpclient} (wagon-http, shaded):
 * the same leak, in {@link #leak}, in a client ConnGuard must recognise by its structure, not its
 * package name. Runs standalone:
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.leak.LeakyWagonApache4 --port PORT --mode hold|drop|slow|clean
 * </pre>
 */
public final class LeakyWagonApache4 implements LeakyClient {

    private final CloseableHttpClient client;

    private LeakyWagonApache4(LeakScenario.Settings settings) {
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
        LeakScenario.run("LeakyWagonApache4", args, LeakyWagonApache4::new, true);
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

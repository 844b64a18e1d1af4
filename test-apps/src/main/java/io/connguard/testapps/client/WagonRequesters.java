package io.connguard.testapps.client;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;

import org.apache.maven.wagon.providers.http.httpclient.HttpEntity;
import org.apache.maven.wagon.providers.http.httpclient.client.config.RequestConfig;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.CloseableHttpResponse;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpGet;
import org.apache.maven.wagon.providers.http.httpclient.config.SocketConfig;
import org.apache.maven.wagon.providers.http.httpclient.impl.client.CloseableHttpClient;
import org.apache.maven.wagon.providers.http.httpclient.impl.client.HttpClients;
import org.apache.maven.wagon.providers.http.httpclient.impl.conn.PoolingHttpClientConnectionManager;

/**
 * {@code wagon-per-thread}: the Apache HttpClient 4 that Maven's wagon-http (shaded) carries,
 * relocated under {@code org.apache.maven.wagon.providers.http.httpclient}, used exactly like
 * {@link Apache4Requesters}: one client with its own pooling connection manager per thread,
 * connections kept alive in the pool between requests, automatic retries off. The code is a copy
 * of that class with the relocated imports, because relocation makes these different classes.
 */
final class WagonRequesters {

    private WagonRequesters() {
    }

    static Requester.Factory perThread(Target target, int connectTimeoutMs, int requestTimeoutMs) {
        return () -> new PoolRequester(target.uri(), connectTimeoutMs, requestTimeoutMs);
    }

    private static final class PoolRequester implements Requester {
        private final URI uri;
        private final CloseableHttpClient client;

        PoolRequester(URI uri, int connectTimeoutMs, int requestTimeoutMs) {
            this.uri = uri;
            PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager();
            pool.setDefaultSocketConfig(SocketConfig.custom().setSoTimeout(requestTimeoutMs).build());
            RequestConfig config = RequestConfig.custom()
                    .setConnectTimeout(connectTimeoutMs)
                    .setSocketTimeout(requestTimeoutMs)
                    .setConnectionRequestTimeout(requestTimeoutMs)
                    .build();
            this.client = HttpClients.custom()
                    .setConnectionManager(pool)
                    .setDefaultRequestConfig(config)
                    .disableAutomaticRetries()
                    .build();
        }

        @Override
        public String get() throws Exception {
            try (CloseableHttpResponse response = client.execute(new HttpGet(uri))) {
                int status = response.getStatusLine().getStatusCode();
                HttpEntity entity = response.getEntity();
                long expected = entity == null ? -1 : entity.getContentLength();
                long read = 0;
                if (entity != null) {
                    // reading to the end hands the connection back to the pool, still open
                    try (InputStream body = entity.getContent()) {
                        read = body.transferTo(OutputStream.nullOutputStream());
                    }
                }
                if (status != 200) {
                    return "status=" + status;
                }
                if (expected >= 0 && read != expected) {
                    return "incomplete body";
                }
                return null;
            }
        }

        @Override
        public void close() {
            try {
                client.close(); // shuts the connection manager down and closes its connections
            } catch (Exception ignored) {
                // best effort
            }
        }
    }
}

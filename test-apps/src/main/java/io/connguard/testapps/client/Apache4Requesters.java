package io.connguard.testapps.client;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;

import org.apache.http.HttpEntity;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.config.SocketConfig;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;

/**
 * {@code apache4-per-thread}: Apache HttpClient 4.5 ({@code org.apache.http}), one client with its
 * own {@link PoolingHttpClientConnectionManager} per thread, as separate pullers have. Connections
 * stay alive in the pool between requests (default keep-alive strategy, no idle eviction);
 * automatic retries are off so that a failed request is seen, not repeated.
 */
final class Apache4Requesters {

    private Apache4Requesters() {
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

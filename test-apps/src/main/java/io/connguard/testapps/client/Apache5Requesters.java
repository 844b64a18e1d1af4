package io.connguard.testapps.client;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;

import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * {@code apache5-per-thread}: Apache HttpClient 5 classic API, one client with its own
 * {@link PoolingHttpClientConnectionManager} per thread. The response handler reads the body to
 * the end, which hands the connection back to the pool, still open, for the thread's next request.
 * Automatic retries are off so that a failed request is seen, not repeated.
 */
final class Apache5Requesters {

    private Apache5Requesters() {
    }

    static Requester.Factory perThread(Target target, int connectTimeoutMs, int requestTimeoutMs) {
        return () -> new PoolRequester(target.uri(), connectTimeoutMs, requestTimeoutMs);
    }

    private static final class PoolRequester implements Requester {
        private final URI uri;
        private final CloseableHttpClient client;

        PoolRequester(URI uri, int connectTimeoutMs, int requestTimeoutMs) {
            this.uri = uri;
            PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                    .setDefaultConnectionConfig(ConnectionConfig.custom()
                            .setConnectTimeout(Timeout.ofMilliseconds(connectTimeoutMs))
                            .setSocketTimeout(Timeout.ofMilliseconds(requestTimeoutMs))
                            .build())
                    .build();
            RequestConfig config = RequestConfig.custom()
                    .setConnectionRequestTimeout(Timeout.ofMilliseconds(requestTimeoutMs))
                    .setResponseTimeout(Timeout.ofMilliseconds(requestTimeoutMs))
                    .build();
            this.client = HttpClients.custom()
                    .setConnectionManager(pool)
                    .setDefaultRequestConfig(config)
                    .disableAutomaticRetries()
                    .build();
        }

        @Override
        public String get() throws Exception {
            return client.execute(new HttpGet(uri), response -> {
                int status = response.getCode();
                HttpEntity entity = response.getEntity();
                long expected = entity == null ? -1 : entity.getContentLength();
                long read = 0;
                if (entity != null) {
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
            });
        }

        @Override
        public void close() {
            client.close(CloseMode.GRACEFUL); // closes the connection manager and its connections
        }
    }
}

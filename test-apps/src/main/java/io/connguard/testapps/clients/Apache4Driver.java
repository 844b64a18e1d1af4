package io.connguard.testapps.clients;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;

import org.apache.http.Header;
import org.apache.http.HttpEntity;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpEntityEnclosingRequestBase;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.client.methods.HttpHead;
import org.apache.http.client.methods.HttpPost;
import org.apache.http.client.methods.HttpPut;
import org.apache.http.client.methods.HttpRequestBase;
import org.apache.http.config.SocketConfig;
import org.apache.http.entity.ByteArrayEntity;
import org.apache.http.entity.ContentType;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClientBuilder;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;
import org.apache.http.util.EntityUtils;

/**
 * Apache HttpClient 4.5 ({@code org.apache.http}): {@code HttpClients.custom()} with connect, socket
 * and pool timeouts; {@link Setup#LOAD} gives it a {@link PoolingHttpClientConnectionManager} of its
 * own (connections kept alive between requests, no idle eviction) and turns automatic retries off;
 * {@link Setup#BOUNDED_POOL} bounds that pool; {@link Setup#DEFAULTS} keeps the default pool, retry
 * handler and authentication. {@link WagonApache4Driver} is the same with Maven's relocated copy.
 */
public final class Apache4Driver implements ClientDriver {

    private final CloseableHttpClient client;

    Apache4Driver(Options options) {
        RequestConfig config = RequestConfig.custom()
                .setConnectTimeout(options.connectTimeoutMs())
                .setSocketTimeout(options.requestTimeoutMs())
                .setConnectionRequestTimeout(options.requestTimeoutMs()) // how long to wait for a connection from the pool
                .build();
        HttpClientBuilder builder = HttpClients.custom().setDefaultRequestConfig(config);
        switch (options.setup()) {
            case LOAD -> {
                PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager();
                pool.setDefaultSocketConfig(SocketConfig.custom().setSoTimeout(options.requestTimeoutMs()).build());
                if (options.poolMax() > 0) { // a pool shared by poolMax threads: one connection each
                    pool.setMaxTotal(Math.max(200, options.poolMax()));
                    pool.setDefaultMaxPerRoute(options.poolMax());
                }
                builder.setConnectionManager(pool).disableAutomaticRetries();
            }
            case BOUNDED_POOL -> {
                PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager();
                pool.setMaxTotal(options.poolMax());
                pool.setDefaultMaxPerRoute(options.poolMax());
                builder.setConnectionManager(pool);
            }
            case DEFAULTS -> {
            }
        }
        client = builder.build();
    }

    @Override
    public String agentName() {
        return "Apache HttpClient 4";
    }

    @Override
    public String get(URI uri) throws Exception {
        try (CloseableHttpResponse response = client.execute(new HttpGet(uri))) {
            HttpEntity entity = response.getEntity();
            long expected = entity == null ? -1 : entity.getContentLength();
            long read = 0;
            if (entity != null) {
                // reading to the end hands the connection back to the pool, still open
                try (InputStream body = entity.getContent()) {
                    read = body.transferTo(OutputStream.nullOutputStream());
                }
            }
            return Bodies.judge(response.getStatusLine().getStatusCode(), expected, read);
        }
    }

    @Override
    public Answer send(String method, URI uri, String auth, byte[] body) throws Exception {
        HttpRequestBase request = switch (method) {
            case "GET" -> new HttpGet(uri);
            case "HEAD" -> new HttpHead(uri);
            case "POST" -> new HttpPost(uri);
            case "PUT" -> new HttpPut(uri);
            default -> throw new IllegalArgumentException("method " + method);
        };
        if (auth != null) {
            request.setHeader("Authorization", auth);
        }
        if (body != null && request instanceof HttpEntityEnclosingRequestBase enclosing) {
            enclosing.setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_OCTET_STREAM));
        }
        try (CloseableHttpResponse response = client.execute(request)) {
            HttpEntity entity = response.getEntity();
            byte[] read = entity == null ? new byte[0] : EntityUtils.toByteArray(entity);
            return new Answer(response.getStatusLine().getStatusCode(), read, value(response.getFirstHeader("Retry-After")),
                    value(response.getFirstHeader("WWW-Authenticate")), value(response.getFirstHeader("X-Refusal")));
        }
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
            Bodies.expectOk(response.getStatusLine().getStatusCode(), uri);
            HttpEntity entity = response.getEntity();
            try (InputStream body = entity.getContent()) {
                return Bodies.drain(body);
            }
        }
    }

    private static String value(Header header) {
        return header == null ? null : header.getValue();
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

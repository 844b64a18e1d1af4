package io.connguard.testapps.clients;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;

import org.apache.maven.wagon.providers.http.httpclient.Header;
import org.apache.maven.wagon.providers.http.httpclient.HttpEntity;
import org.apache.maven.wagon.providers.http.httpclient.client.config.RequestConfig;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.CloseableHttpResponse;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpEntityEnclosingRequestBase;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpGet;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpHead;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpPost;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpPut;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpRequestBase;
import org.apache.maven.wagon.providers.http.httpclient.config.SocketConfig;
import org.apache.maven.wagon.providers.http.httpclient.entity.ByteArrayEntity;
import org.apache.maven.wagon.providers.http.httpclient.entity.ContentType;
import org.apache.maven.wagon.providers.http.httpclient.impl.client.CloseableHttpClient;
import org.apache.maven.wagon.providers.http.httpclient.impl.client.HttpClientBuilder;
import org.apache.maven.wagon.providers.http.httpclient.impl.client.HttpClients;
import org.apache.maven.wagon.providers.http.httpclient.impl.conn.PoolingHttpClientConnectionManager;
import org.apache.maven.wagon.providers.http.httpclient.util.EntityUtils;

/**
 * {@link Apache4Driver} with the copy of Apache HttpClient 4 that Maven's HTTP transport ships,
 * relocated under {@code org.apache.maven.wagon.providers.http.httpclient} (wagon-http, shaded): a
 * client ConnGuard must recognise by its structure, not its package name. The code is a copy of
 * that class with the relocated imports, because relocation makes these different classes.
 */
public final class WagonApache4Driver implements ClientDriver {

    private final CloseableHttpClient client;

    WagonApache4Driver(Options options) {
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

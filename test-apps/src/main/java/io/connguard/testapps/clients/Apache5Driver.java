package io.connguard.testapps.clients;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;

import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpHead;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.classic.methods.HttpPut;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * Apache HttpClient 5, classic API: {@code HttpClients.custom()} with a pooling connection manager
 * of its own (connect and socket timeouts) and pool and response timeouts. {@link Setup#LOAD} turns
 * automatic retries off; {@link Setup#BOUNDED_POOL} bounds the pool; {@link Setup#DEFAULTS} keeps
 * everything else default, including its own retry strategy ({@code DefaultHttpRequestRetryStrategy}:
 * a 429 or 503 is repeated once, after its {@code Retry-After} or 1 s, whatever the method, as long
 * as the body is repeatable).
 */
public final class Apache5Driver implements ClientDriver {

    private final CloseableHttpClient client;

    Apache5Driver(Options options) {
        PoolingHttpClientConnectionManagerBuilder pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.ofMilliseconds(options.connectTimeoutMs()))
                        .setSocketTimeout(Timeout.ofMilliseconds(options.requestTimeoutMs()))
                        .build());
        if (options.setup() == Setup.BOUNDED_POOL) {
            pool.setMaxConnTotal(options.poolMax()).setMaxConnPerRoute(options.poolMax());
        } else if (options.setup() == Setup.LOAD && options.poolMax() > 0) { // shared by poolMax threads
            pool.setMaxConnTotal(Math.max(200, options.poolMax())).setMaxConnPerRoute(options.poolMax());
        }
        HttpClientBuilder builder = HttpClients.custom()
                .setConnectionManager(pool.build())
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(Timeout.ofMilliseconds(options.requestTimeoutMs())) // wait for a pooled connection
                        .setResponseTimeout(Timeout.ofMilliseconds(options.requestTimeoutMs()))
                        .build());
        if (options.setup() == Setup.LOAD) {
            builder.disableAutomaticRetries();
        }
        client = builder.build();
    }

    @Override
    public String agentName() {
        return "Apache HttpClient 5";
    }

    @Override
    public String get(URI uri) throws Exception {
        return client.execute(new HttpGet(uri), response -> {
            HttpEntity entity = response.getEntity();
            long expected = entity == null ? -1 : entity.getContentLength();
            long read = 0;
            if (entity != null) {
                // the response handler reads the body to the end: the connection goes back to the pool, still open
                try (InputStream body = entity.getContent()) {
                    read = body.transferTo(OutputStream.nullOutputStream());
                }
            }
            return Bodies.judge(response.getCode(), expected, read);
        });
    }

    @Override
    public Answer send(String method, URI uri, String auth, byte[] body) throws Exception {
        HttpUriRequestBase request = switch (method) {
            case "GET" -> new HttpGet(uri);
            case "HEAD" -> new HttpHead(uri);
            case "POST" -> new HttpPost(uri);
            case "PUT" -> new HttpPut(uri);
            default -> throw new IllegalArgumentException("method " + method);
        };
        if (auth != null) {
            request.setHeader("Authorization", auth);
        }
        if (body != null) {
            request.setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_OCTET_STREAM));
        }
        return client.execute(request, response -> {
            HttpEntity entity = response.getEntity();
            byte[] read = entity == null ? new byte[0] : EntityUtils.toByteArray(entity);
            return new Answer(response.getCode(), read, value(response.getFirstHeader("Retry-After")),
                    value(response.getFirstHeader("WWW-Authenticate")), value(response.getFirstHeader("X-Refusal")));
        });
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
            Bodies.expectOk(response.getCode(), uri);
            HttpEntity entity = response.getEntity();
            try (InputStream body = entity.getContent()) {
                return Bodies.drain(body);
            }
        });
    }

    private static String value(Header header) {
        return header == null ? null : header.getValue();
    }

    @Override
    public void close() {
        client.close(CloseMode.GRACEFUL); // closes the connection manager and its connections
    }
}

package io.connguard.testapps.client;

import java.net.URI;

import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpHead;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.classic.methods.HttpPut;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
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
 * Apache HttpClient 5 classic, {@code HttpClients.custom().build()} with connect, socket, response
 * and pool timeouts and everything else default — including its own retry strategy
 * ({@code DefaultHttpRequestRetryStrategy}: a 429 or 503 is repeated once, after its
 * {@code Retry-After} or 1 s, whatever the method, as long as the body is repeatable).
 */
final class RetryApache5Client implements RetryClient {

    private final CloseableHttpClient client;

    RetryApache5Client(int timeoutMs) {
        Timeout timeout = Timeout.ofMilliseconds(timeoutMs);
        this.client = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(timeout)
                                .setSocketTimeout(timeout)
                                .build())
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(timeout)
                        .setResponseTimeout(timeout)
                        .build())
                .build();
    }

    @Override
    public String agentName() {
        return "Apache HttpClient 5";
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

    private static String value(Header header) {
        return header == null ? null : header.getValue();
    }

    @Override
    public void close() {
        client.close(CloseMode.GRACEFUL);
    }
}

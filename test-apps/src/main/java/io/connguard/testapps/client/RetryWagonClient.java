package io.connguard.testapps.client;

import java.net.URI;

import org.apache.maven.wagon.providers.http.httpclient.Header;
import org.apache.maven.wagon.providers.http.httpclient.HttpEntity;
import org.apache.maven.wagon.providers.http.httpclient.client.config.RequestConfig;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.CloseableHttpResponse;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpGet;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpHead;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpPost;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpPut;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpEntityEnclosingRequestBase;
import org.apache.maven.wagon.providers.http.httpclient.client.methods.HttpRequestBase;
import org.apache.maven.wagon.providers.http.httpclient.entity.ByteArrayEntity;
import org.apache.maven.wagon.providers.http.httpclient.entity.ContentType;
import org.apache.maven.wagon.providers.http.httpclient.impl.client.CloseableHttpClient;
import org.apache.maven.wagon.providers.http.httpclient.impl.client.HttpClients;
import org.apache.maven.wagon.providers.http.httpclient.util.EntityUtils;

/**
 * The Apache HttpClient 4 relocated inside Maven's wagon-http (shaded), under
 * {@code org.apache.maven.wagon.providers.http.httpclient}: a copy of {@link RetryApache4Client} with
 * the relocated imports (relocation makes them different classes): {@code HttpClients.custom().build()}
 * with connect, socket and pool timeouts, everything else default.
 */
final class RetryWagonClient implements RetryClient {

    private final CloseableHttpClient client;

    RetryWagonClient(int timeoutMs) {
        RequestConfig config = RequestConfig.custom()
                .setConnectTimeout(timeoutMs)
                .setSocketTimeout(timeoutMs)
                .setConnectionRequestTimeout(timeoutMs)
                .build();
        this.client = HttpClients.custom().setDefaultRequestConfig(config).build();
    }

    @Override
    public String agentName() {
        return "Apache HttpClient 4";
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

    private static String value(Header header) {
        return header == null ? null : header.getValue();
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (Exception ignored) {
            // best effort
        }
    }
}

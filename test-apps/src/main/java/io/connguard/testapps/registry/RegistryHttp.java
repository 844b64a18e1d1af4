package io.connguard.testapps.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * One HTTP client of a kind, shared by all pulling threads of the JVM, each in its default
 * configuration: no authenticator, no retry configured by us (whatever the client does on its own
 * stays: Apache HttpClient 5's default strategy retries 429 and 503 once), redirects followed the
 * client's own way. Only the connection pools of the two Apache clients are sized to the number of
 * threads (their defaults, 2 and 5 per route, would queue the threads inside the client), as a
 * puller with that many threads would configure them. Timeouts: 10 s connect, 60 s per request.
 */
abstract class RegistryHttp implements AutoCloseable {

    static final String[] KINDS = {"url", "jdk", "jdk-async", "apache4", "apache5", "okhttp"};

    static final int CONNECT_TIMEOUT_MS = 10_000;
    static final int REQUEST_TIMEOUT_MS = 60_000;

    /** A response read to the end: status, the headers the puller looks at (lower-case names), body. */
    static final class Reply {
        final int status;
        final Map<String, String> headers;
        final byte[] body;

        Reply(int status, Map<String, String> headers, byte[] body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** GET {@code base + path} with these request headers; the body is read fully and the response closed. */
    abstract Reply get(String path, Map<String, String> requestHeaders) throws Exception;

    @Override
    public void close() throws Exception {
    }

    static RegistryHttp create(String kind, String base, int threads) {
        switch (kind) {
            case "url":
                return new UrlConnection(base);
            case "jdk":
                return new Jdk(base, false);
            case "jdk-async":
                return new Jdk(base, true);
            case "apache4":
                return new Apache4(base, threads);
            case "apache5":
                return new Apache5(base, threads);
            case "okhttp":
                return new OkHttp(base);
            default:
                throw new IllegalArgumentException("unknown client '" + kind + "'; one of " + String.join("|", KINDS));
        }
    }

    private static void put(Map<String, String> headers, String name, String value) {
        if (name != null && value != null) {
            headers.putIfAbsent(name.toLowerCase(Locale.ROOT), value);
        }
    }

    /** {@code java.net.HttpURLConnection}, through the JVM's keep-alive cache. */
    static final class UrlConnection extends RegistryHttp {
        private final String base;

        UrlConnection(String base) {
            this.base = base;
        }

        @Override
        Reply get(String path, Map<String, String> requestHeaders) throws IOException {
            HttpURLConnection c = (HttpURLConnection) new URL(base + path).openConnection();
            c.setConnectTimeout(CONNECT_TIMEOUT_MS);
            c.setReadTimeout(REQUEST_TIMEOUT_MS);
            requestHeaders.forEach(c::setRequestProperty);
            int status = c.getResponseCode();
            Map<String, String> headers = new LinkedHashMap<>();
            c.getHeaderFields().forEach((k, v) -> {
                if (k != null && !v.isEmpty()) {
                    put(headers, k, v.get(0));
                }
            });
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            byte[] body = new byte[0];
            if (in != null) {
                try (InputStream s = in) {
                    body = s.readAllBytes();
                }
            }
            return new Reply(status, headers, body);
        }
    }

    /** {@code java.net.http.HttpClient}: default builder (HTTP/2 preferred) with a connect timeout and redirects followed. */
    static final class Jdk extends RegistryHttp {
        private final String base;
        private final boolean async;
        private final HttpClient client;

        Jdk(String base, boolean async) {
            this.base = base;
            this.async = async;
            this.client = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(CONNECT_TIMEOUT_MS))
                    .followRedirects(HttpClient.Redirect.NORMAL).build();
        }

        @Override
        Reply get(String path, Map<String, String> requestHeaders) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                    .timeout(Duration.ofMillis(REQUEST_TIMEOUT_MS)).GET();
            requestHeaders.forEach(b::header);
            HttpResponse<byte[]> r;
            if (async) {
                try {
                    r = client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray())
                            .get(REQUEST_TIMEOUT_MS + 5_000L, TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
                }
            } else {
                r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            }
            Map<String, String> headers = new LinkedHashMap<>();
            r.headers().map().forEach((k, v) -> {
                if (!v.isEmpty()) {
                    put(headers, k, v.get(0));
                }
            });
            return new Reply(r.statusCode(), headers, r.body());
        }
    }

    /** Apache HttpClient 4: {@code HttpClients.custom()} with the pool sized to the threads. */
    static final class Apache4 extends RegistryHttp {
        private final String base;
        private final org.apache.http.impl.client.CloseableHttpClient client;

        Apache4(String base, int threads) {
            this.base = base;
            org.apache.http.client.config.RequestConfig config = org.apache.http.client.config.RequestConfig.custom()
                    .setConnectTimeout(CONNECT_TIMEOUT_MS).setSocketTimeout(REQUEST_TIMEOUT_MS).build();
            this.client = org.apache.http.impl.client.HttpClients.custom()
                    .setMaxConnPerRoute(Math.max(2, threads)).setMaxConnTotal(Math.max(20, threads))
                    .setDefaultRequestConfig(config).build();
        }

        @Override
        Reply get(String path, Map<String, String> requestHeaders) throws IOException {
            org.apache.http.client.methods.HttpGet get = new org.apache.http.client.methods.HttpGet(base + path);
            requestHeaders.forEach(get::setHeader);
            try (org.apache.http.client.methods.CloseableHttpResponse r = client.execute(get)) {
                Map<String, String> headers = new LinkedHashMap<>();
                for (org.apache.http.Header h : r.getAllHeaders()) {
                    put(headers, h.getName(), h.getValue());
                }
                byte[] body = r.getEntity() == null ? new byte[0]
                        : org.apache.http.util.EntityUtils.toByteArray(r.getEntity());
                return new Reply(r.getStatusLine().getStatusCode(), headers, body);
            }
        }

        @Override
        public void close() throws IOException {
            client.close();
        }
    }

    /** Apache HttpClient 5 classic: {@code HttpClients.custom()} with the pool sized to the threads. */
    static final class Apache5 extends RegistryHttp {
        private final String base;
        private final org.apache.hc.client5.http.impl.classic.CloseableHttpClient client;

        Apache5(String base, int threads) {
            this.base = base;
            org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager pool =
                    org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder.create()
                            .setMaxConnPerRoute(Math.max(5, threads)).setMaxConnTotal(Math.max(25, threads))
                            .setDefaultConnectionConfig(org.apache.hc.client5.http.config.ConnectionConfig.custom()
                                    .setConnectTimeout(CONNECT_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                                    .setSocketTimeout(REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS).build())
                            .build();
            this.client = org.apache.hc.client5.http.impl.classic.HttpClients.custom().setConnectionManager(pool).build();
        }

        @Override
        Reply get(String path, Map<String, String> requestHeaders) throws IOException {
            org.apache.hc.client5.http.classic.methods.HttpGet get =
                    new org.apache.hc.client5.http.classic.methods.HttpGet(base + path);
            requestHeaders.forEach(get::setHeader);
            return client.execute(get, r -> {
                Map<String, String> headers = new LinkedHashMap<>();
                for (org.apache.hc.core5.http.Header h : r.getHeaders()) {
                    put(headers, h.getName(), h.getValue());
                }
                byte[] body = r.getEntity() == null ? new byte[0]
                        : org.apache.hc.core5.http.io.entity.EntityUtils.toByteArray(r.getEntity());
                return new Reply(r.getCode(), headers, body);
            });
        }

        @Override
        public void close() throws IOException {
            client.close();
        }
    }

    /** OkHttp: {@code new OkHttpClient.Builder()} with the timeouts; everything else its default. */
    static final class OkHttp extends RegistryHttp {
        private final String base;
        private final OkHttpClient client;

        OkHttp(String base) {
            this.base = base;
            this.client = new OkHttpClient.Builder()
                    .connectTimeout(CONNECT_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .readTimeout(REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .callTimeout(REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .build();
        }

        @Override
        Reply get(String path, Map<String, String> requestHeaders) throws IOException {
            Request.Builder b = new Request.Builder().url(base + path).get();
            requestHeaders.forEach(b::header);
            try (Response r = client.newCall(b.build()).execute()) {
                Map<String, String> headers = new LinkedHashMap<>();
                for (String name : r.headers().names()) {
                    put(headers, name, r.header(name));
                }
                ResponseBody body = r.body();
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                if (body != null) {
                    try (InputStream in = body.byteStream()) {
                        in.transferTo(bytes);
                    }
                }
                return new Reply(r.code(), headers, bytes.toByteArray());
            }
        }

        @Override
        public void close() {
            client.dispatcher().executorService().shutdown();
            client.connectionPool().evictAll();
        }
    }
}

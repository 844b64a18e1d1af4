package io.connguard.testapps.client;

import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * One HTTP client, in its default configuration except for timeouts, shared by every thread of a
 * {@link RetryApp} run. {@link #send} makes one request and reads the whole answer.
 */
interface RetryClient extends AutoCloseable {

    /** The name ConnGuard gives this client in its log lines. */
    String agentName();

    /**
     * @param auth the {@code Authorization} header value, or null for none
     * @param body the request body (POST, PUT), or null for none
     */
    Answer send(String method, URI uri, String auth, byte[] body) throws Exception;

    @Override
    default void close() {
    }

    /** What the caller got: the status, the whole body and the headers the retry rules look at. */
    record Answer(int status, byte[] body, String retryAfter, String wwwAuthenticate, String refusal) {
    }

    java.util.List<String> KINDS = java.util.List.of("url", "jdk", "jdk-async", "apache4", "wagon", "apache5", "okhttp");

    /** The client for {@code --client}: url, jdk, jdk-async, apache4, wagon, apache5, okhttp. */
    static RetryClient create(String kind, int timeoutMs) {
        return switch (kind) {
            case "url" -> new UrlConnection(timeoutMs);
            case "jdk" -> new Jdk(timeoutMs, false);
            case "jdk-async" -> new Jdk(timeoutMs, true);
            case "apache4" -> new RetryApache4Client(timeoutMs);
            case "wagon" -> new RetryWagonClient(timeoutMs);
            case "apache5" -> new RetryApache5Client(timeoutMs);
            case "okhttp" -> new OkHttp(timeoutMs);
            default -> throw new io.connguard.testapps.common.Args.UsageException(
                    "--client must be url, jdk, jdk-async, apache4, wagon, apache5 or okhttp, got '" + kind + "'");
        };
    }

    /** {@link HttpURLConnection}: connect and read timeout; a POST or PUT body goes through its default buffering. */
    final class UrlConnection implements RetryClient {
        private final int timeoutMs;

        UrlConnection(int timeoutMs) {
            this.timeoutMs = timeoutMs;
        }

        @Override
        public String agentName() {
            return "HttpURLConnection";
        }

        @Override
        public Answer send(String method, URI uri, String auth, byte[] body) throws Exception {
            HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
            connection.setRequestMethod(method);
            connection.setConnectTimeout(timeoutMs);
            connection.setReadTimeout(timeoutMs);
            connection.setUseCaches(false);
            if (auth != null) {
                connection.setRequestProperty("Authorization", auth);
            }
            if (body != null) {
                connection.setDoOutput(true);
                connection.setRequestProperty("Content-Type", "application/octet-stream");
                try (var out = connection.getOutputStream()) {
                    out.write(body);
                }
            }
            int status = connection.getResponseCode();
            byte[] read = new byte[0];
            InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
            if (in != null) {
                try (in) {
                    read = in.readAllBytes();
                }
            }
            return new Answer(status, read, connection.getHeaderField("Retry-After"),
                    connection.getHeaderField("WWW-Authenticate"), connection.getHeaderField("X-Refusal"));
        }
    }

    /** {@link HttpClient} with its defaults (HTTP/2 preferred), a connect timeout and a request timeout; sync or async. */
    final class Jdk implements RetryClient {
        private final HttpClient client;
        private final int timeoutMs;
        private final boolean async;

        Jdk(int timeoutMs, boolean async) {
            HttpClient.Builder builder = HttpClient.newBuilder();
            if (timeoutMs > 0) {
                builder.connectTimeout(Duration.ofMillis(timeoutMs));
            }
            this.client = builder.build();
            this.timeoutMs = timeoutMs;
            this.async = async;
        }

        @Override
        public String agentName() {
            return "java.net.http.HttpClient";
        }

        @Override
        public Answer send(String method, URI uri, String auth, byte[] body) throws Exception {
            HttpRequest.Builder builder = HttpRequest.newBuilder(uri).method(method,
                    body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            if (timeoutMs > 0) {
                builder.timeout(Duration.ofMillis(timeoutMs));
            }
            if (auth != null) {
                builder.header("Authorization", auth);
            }
            if (body != null) {
                builder.header("Content-Type", "application/octet-stream");
            }
            HttpRequest request = builder.build();
            HttpResponse<byte[]> response;
            if (async) {
                try {
                    response = client.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
                            .get(timeoutMs > 0 ? timeoutMs + 60_000L : 600_000L, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
            } else {
                response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            }
            return new Answer(response.statusCode(), response.body() == null ? new byte[0] : response.body(),
                    response.headers().firstValue("Retry-After").orElse(null),
                    response.headers().firstValue("WWW-Authenticate").orElse(null),
                    response.headers().firstValue("X-Refusal").orElse(null));
        }

        @Override
        public void close() {
            Object maybeCloseable = client;
            if (maybeCloseable instanceof AutoCloseable closeable) { // Java 21+
                try {
                    closeable.close();
                } catch (Exception ignored) {
                    // best effort
                }
            }
        }
    }

    /** OkHttp with its defaults (connection-failure retries on), connect, read, write and call timeouts. */
    final class OkHttp implements RetryClient {
        private static final MediaType OCTETS = MediaType.get("application/octet-stream");
        private final OkHttpClient client;

        OkHttp(int timeoutMs) {
            this.client = new OkHttpClient.Builder()
                    .connectTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                    .readTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                    .writeTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                    .callTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                    .build();
        }

        @Override
        public String agentName() {
            return "OkHttp";
        }

        @Override
        public Answer send(String method, URI uri, String auth, byte[] body) throws Exception {
            Request.Builder builder = new Request.Builder().url(uri.toString())
                    .method(method, body == null ? null : RequestBody.create(body, OCTETS));
            if (auth != null) {
                builder.header("Authorization", auth);
            }
            try (Response response = client.newCall(builder.build()).execute()) {
                ResponseBody responseBody = response.body();
                byte[] read = responseBody == null ? new byte[0] : responseBody.bytes();
                return new Answer(response.code(), read, response.header("Retry-After"),
                        response.header("WWW-Authenticate"), response.header("X-Refusal"));
            }
        }

        @Override
        public void close() {
            client.dispatcher().executorService().shutdown();
            client.connectionPool().evictAll();
        }
    }
}

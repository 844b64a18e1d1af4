package io.connguard.testapps.client;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.OptionalLong;

/** {@code httpclient-shared} and {@code httpclient-per-thread}: {@link HttpClient}, HTTP/1.1, sync send. */
final class HttpClientRequesters {

    private HttpClientRequesters() {
    }

    /** One client for every thread. */
    static Requester.Factory shared(Target target, int connectTimeoutMs, int requestTimeoutMs) {
        HttpClient client = newClient(connectTimeoutMs);
        return new Requester.Factory() {
            @Override
            public Requester newRequester() {
                return new ClientRequester(client, target, requestTimeoutMs, false);
            }

            @Override
            public void close() {
                closeClient(client);
            }
        };
    }

    /** A client of its own for every thread, closed when the thread is done (Java 21+). */
    static Requester.Factory perThread(Target target, int connectTimeoutMs, int requestTimeoutMs) {
        return () -> new ClientRequester(newClient(connectTimeoutMs), target, requestTimeoutMs, true);
    }

    private static HttpClient newClient(int connectTimeoutMs) {
        HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);
        if (connectTimeoutMs > 0) {
            builder.connectTimeout(Duration.ofMillis(connectTimeoutMs));
        }
        return builder.build();
    }

    /** HttpClient is AutoCloseable from Java 21 on; on 17 its threads simply die with the JVM. */
    @SuppressWarnings("ConstantConditions")
    private static void closeClient(HttpClient client) {
        Object maybeCloseable = client;
        if (maybeCloseable instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    private static final class ClientRequester implements Requester {
        private final HttpClient client;
        private final HttpRequest request;
        private final boolean owned;

        ClientRequester(HttpClient client, Target target, int requestTimeoutMs, boolean owned) {
            this.client = client;
            HttpRequest.Builder builder = HttpRequest.newBuilder(target.uri()).GET();
            if (requestTimeoutMs > 0) {
                builder.timeout(Duration.ofMillis(requestTimeoutMs));
            }
            this.request = builder.build();
            this.owned = owned;
        }

        @Override
        public String get() throws Exception {
            HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) {
                return "status=" + response.statusCode();
            }
            OptionalLong expected = response.headers().firstValueAsLong("content-length");
            if (expected.isPresent() && expected.getAsLong() != response.body().length) {
                return "incomplete body";
            }
            return null;
        }

        @Override
        public void close() {
            if (owned) {
                closeClient(client);
            }
        }
    }
}

package io.connguard.testapps.client;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.TimeUnit;

import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * {@code okhttp-per-thread}: OkHttp 4, one {@link OkHttpClient} per thread, each with its own
 * {@link ConnectionPool} (OkHttp's default size and keep-alive: 5 idle connections for 5 minutes),
 * HTTP/1.1, synchronous calls. Reading the body to the end and closing the response hands the
 * connection back to the pool, still open. {@code retryOnConnectionFailure(false)} so that a failed
 * request is seen, not silently repeated.
 */
final class OkHttpRequesters {

    private OkHttpRequesters() {
    }

    static Requester.Factory perThread(Target target, int connectTimeoutMs, int requestTimeoutMs) {
        return () -> new PoolRequester(target, connectTimeoutMs, requestTimeoutMs);
    }

    private static final class PoolRequester implements Requester {
        private final OkHttpClient client;
        private final Request request;

        PoolRequester(Target target, int connectTimeoutMs, int requestTimeoutMs) {
            this.client = new OkHttpClient.Builder()
                    .connectionPool(new ConnectionPool(5, 5, TimeUnit.MINUTES))
                    .protocols(List.of(Protocol.HTTP_1_1))
                    .connectTimeout(connectTimeoutMs, TimeUnit.MILLISECONDS)
                    .readTimeout(requestTimeoutMs, TimeUnit.MILLISECONDS)
                    .writeTimeout(requestTimeoutMs, TimeUnit.MILLISECONDS)
                    .callTimeout(requestTimeoutMs, TimeUnit.MILLISECONDS)
                    .retryOnConnectionFailure(false)
                    .build();
            this.request = new Request.Builder().url(target.uri().toString()).get().build();
        }

        @Override
        public String get() throws Exception {
            try (Response response = client.newCall(request).execute()) {
                ResponseBody body = response.body();
                long expected = body == null ? -1 : body.contentLength();
                long read = 0;
                if (body != null) {
                    try (InputStream in = body.byteStream()) {
                        read = in.transferTo(OutputStream.nullOutputStream());
                    }
                }
                if (response.code() != 200) {
                    return "status=" + response.code();
                }
                if (expected >= 0 && read != expected) {
                    return "incomplete body";
                }
                return null;
            }
        }

        /** OkHttp's documented shutdown: stop the dispatcher's threads and close the pooled connections. */
        @Override
        public void close() {
            client.dispatcher().executorService().shutdown();
            client.connectionPool().evictAll();
        }
    }
}

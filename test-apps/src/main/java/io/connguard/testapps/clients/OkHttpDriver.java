package io.connguard.testapps.clients;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;

import okhttp3.ConnectionPool;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * OkHttp 4, synchronous calls, connect and read timeouts. {@link Setup#LOAD}: a
 * {@link ConnectionPool} of its own (OkHttp's default size and keep-alive: 5 idle connections for
 * 5 minutes), HTTP/1.1, write and call timeouts, {@code retryOnConnectionFailure(false)} so that a
 * failed request is seen, not silently repeated. {@link Setup#DEFAULTS}: its defaults (connection
 * failure retries on) with write and call timeouts. {@link Setup#BOUNDED_POOL}: a pool of
 * {@code poolMax} idle connections. Reading the body to the end and closing the response hands
 * the connection back to the pool, still open.
 */
public final class OkHttpDriver implements ClientDriver {

    private static final MediaType OCTETS = MediaType.get("application/octet-stream");

    private final OkHttpClient client;

    OkHttpDriver(Options options) {
        OkHttpClient.Builder builder = new OkHttpClient.Builder()
                .connectTimeout(options.connectTimeoutMs(), TimeUnit.MILLISECONDS) // ConnGuard waits for a slot at most this long
                .readTimeout(options.requestTimeoutMs(), TimeUnit.MILLISECONDS);
        switch (options.setup()) {
            case LOAD -> builder.connectionPool(new ConnectionPool(5, 5, TimeUnit.MINUTES))
                    .protocols(List.of(Protocol.HTTP_1_1))
                    .writeTimeout(options.requestTimeoutMs(), TimeUnit.MILLISECONDS)
                    .callTimeout(options.requestTimeoutMs(), TimeUnit.MILLISECONDS)
                    .retryOnConnectionFailure(false);
            case DEFAULTS -> builder.writeTimeout(options.requestTimeoutMs(), TimeUnit.MILLISECONDS)
                    .callTimeout(options.requestTimeoutMs(), TimeUnit.MILLISECONDS);
            case BOUNDED_POOL -> builder.connectionPool(new ConnectionPool(options.poolMax(), 5, TimeUnit.MINUTES));
        }
        client = builder.build();
    }

    @Override
    public String agentName() {
        return "OkHttp";
    }

    @Override
    public String get(URI uri) throws Exception {
        try (Response response = client.newCall(new Request.Builder().url(uri.toString()).get().build()).execute()) {
            ResponseBody body = response.body();
            long expected = body == null ? -1 : body.contentLength();
            long read = 0;
            if (body != null) {
                try (InputStream in = body.byteStream()) {
                    read = in.transferTo(OutputStream.nullOutputStream());
                }
            }
            return Bodies.judge(response.code(), expected, read);
        }
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
    public Leak leak(URI uri) throws IOException {
        Request request = new Request.Builder().url(uri.toString()).build();
        Response response = client.newCall(request).execute(); Site site = Site.here(); // LEAK: body never read, never closed
        return new Leak(response, site);
    }

    @Override
    public void release(Object response) {
        ((Response) response).close();
    }

    @Override
    public long fetch(URI uri) throws IOException {
        Request request = new Request.Builder().url(uri.toString()).build();
        try (Response response = client.newCall(request).execute()) {
            Bodies.expectOk(response.code(), uri);
            ResponseBody body = response.body();
            try (InputStream in = body.byteStream()) {
                return Bodies.drain(in);
            }
        }
    }

    /** OkHttp's documented shutdown: stop the dispatcher's threads and close the pooled connections. */
    @Override
    public void close() {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}

package io.connguard.testapps.clients;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;

/**
 * {@link HttpURLConnection}, whose keep-alive cache is the JDK's: every setup is the same, a
 * connect and read timeout, no caches. A body read to the end and closed (without
 * {@code disconnect()}) leaves the connection alive for reuse; a POST or PUT body goes through
 * the client's default buffering.
 */
public final class UrlConnectionDriver implements ClientDriver {

    private final int connectTimeoutMs;
    private final int requestTimeoutMs;

    UrlConnectionDriver(Options options) {
        this.connectTimeoutMs = options.connectTimeoutMs();
        this.requestTimeoutMs = options.requestTimeoutMs();
    }

    @Override
    public String agentName() {
        return "HttpURLConnection";
    }

    @Override
    public String get(URI uri) throws Exception {
        HttpURLConnection connection = open(uri);
        int status = connection.getResponseCode();
        long expected = connection.getContentLengthLong();
        long read = 0;
        InputStream body = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
        if (body != null) {
            try (body) {
                read = body.transferTo(OutputStream.nullOutputStream());
            }
        }
        return Bodies.judge(status, expected, read);
    }

    @Override
    public Answer send(String method, URI uri, String auth, byte[] body) throws Exception {
        HttpURLConnection connection = open(uri);
        connection.setRequestMethod(method);
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

    @Override
    public Leak leak(URI uri) throws IOException {
        HttpURLConnection connection = open(uri);
        InputStream body = connection.getInputStream(); Site site = Site.here(); // LEAK: never read to the end, never closed
        return new Leak(new Held(connection, body), site);
    }

    @Override
    public void release(Object response) throws IOException {
        ((Held) response).body().close();
    }

    @Override
    public long fetch(URI uri) throws IOException {
        HttpURLConnection connection = open(uri);
        Bodies.expectOk(connection.getResponseCode(), uri);
        try (InputStream body = connection.getInputStream()) {
            return Bodies.drain(body); // read to the end and closed: the connection goes back to the keep-alive cache
        }
    }

    private HttpURLConnection open(URI uri) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
        connection.setConnectTimeout(connectTimeoutMs);
        connection.setReadTimeout(requestTimeoutMs);
        connection.setUseCaches(false);
        return connection;
    }

    @Override
    public void close() {
        // nothing: the keep-alive cache belongs to the JDK
    }

    private record Held(HttpURLConnection connection, InputStream body) {
    }
}

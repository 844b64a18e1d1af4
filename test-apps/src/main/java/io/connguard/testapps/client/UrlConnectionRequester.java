package io.connguard.testapps.client;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;

/**
 * {@code urlconnection}: {@link HttpURLConnection}; reads the body (or error body) fully and closes
 * the stream without {@code disconnect()}, so the JDK keeps the connection alive for reuse.
 */
final class UrlConnectionRequester implements Requester {

    private final URL url;
    private final int connectTimeoutMs;
    private final int requestTimeoutMs;

    UrlConnectionRequester(Target target, int connectTimeoutMs, int requestTimeoutMs) throws Exception {
        this.url = target.uri().toURL();
        this.connectTimeoutMs = connectTimeoutMs;
        this.requestTimeoutMs = requestTimeoutMs;
    }

    @Override
    public String get() throws Exception {
        HttpURLConnection connection = (HttpURLConnection) url.openConnection();
        connection.setConnectTimeout(connectTimeoutMs);
        connection.setReadTimeout(requestTimeoutMs);
        connection.setUseCaches(false);
        int status = connection.getResponseCode();
        long expected = connection.getContentLengthLong();
        long read = 0;
        InputStream body = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
        if (body != null) {
            try (body) {
                read = body.transferTo(OutputStream.nullOutputStream());
            }
        }
        if (status != 200) {
            return "status=" + status;
        }
        if (expected >= 0 && read != expected) {
            return "incomplete body";
        }
        return null;
    }
}

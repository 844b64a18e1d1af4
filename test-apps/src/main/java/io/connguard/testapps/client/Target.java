package io.connguard.testapps.client;

import java.net.InetSocketAddress;
import java.net.URI;

import io.connguard.testapps.common.Args;

/** Where the clients send their GETs: an {@code http(s)://host:port/path} URL taken apart once. */
record Target(URI uri, String host, int port, String pathAndQuery) {

    static Target parse(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--url is not a valid URL: " + e.getMessage());
        }
        boolean web = "http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme());
        if (!web || uri.getHost() == null || uri.getPort() <= 0) {
            throw new Args.UsageException("--url must look like http(s)://127.0.0.1:PORT/path, got '" + url + "'");
        }
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        return new Target(uri, uri.getHost(), uri.getPort(), path);
    }

    /** Whether the URL is https: the socket kind then speaks TLS over an {@code SSLSocket}. */
    boolean tls() {
        return "https".equalsIgnoreCase(uri.getScheme());
    }

    /** Unresolved-looking but resolved address: the host string stays exactly as given. */
    InetSocketAddress address() {
        return new InetSocketAddress(host, port);
    }

    /** A minimal HTTP/1.1 GET asking the server to close the connection after the answer. */
    byte[] closingGetRequest() {
        String request = "GET " + pathAndQuery + " HTTP/1.1\r\n"
                + "Host: " + host + ":" + port + "\r\n"
                + "User-Agent: connguard-test-apps\r\n"
                + "Accept: */*\r\n"
                + "Connection: close\r\n"
                + "\r\n";
        return request.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}

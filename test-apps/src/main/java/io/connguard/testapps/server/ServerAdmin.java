package io.connguard.testapps.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Talks to a {@link HarborLikeServer}'s admin port from another JVM (the demo, the tests).
 * Must not be used in a JVM that runs the agent, or the admin connections would be governed too.
 */
public final class ServerAdmin {

    private final int adminPort;

    public ServerAdmin(int adminPort) {
        this.adminPort = adminPort;
    }

    /** {@code GET /stats}, parsed: open, peak, connections, served, refused, rawpeak. */
    public Map<String, Long> stats() throws IOException {
        return parse(call("GET", "/stats"));
    }

    /** {@code POST /reset}: zeroes counters and peaks (the open count stays true). */
    public void reset() throws IOException {
        call("POST", "/reset");
    }

    /** Waits until the server sees no open connection on its main port, up to {@code timeoutMs}. */
    public boolean awaitIdle(long timeoutMs) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (stats().getOrDefault("open", 0L) > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    /** Parses a line of {@code key=value} tokens; non-numeric values are skipped. */
    public static Map<String, Long> parse(String line) {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String token : line.trim().split("\\s+")) {
            int eq = token.indexOf('=');
            if (eq > 0) {
                try {
                    values.put(token.substring(0, eq), Long.parseLong(token.substring(eq + 1)));
                } catch (NumberFormatException ignored) {
                    // not a number: not a counter
                }
            }
        }
        return values;
    }

    private String call(String method, String path) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) new URL("http://127.0.0.1:" + adminPort + path).openConnection();
        connection.setRequestMethod(method);
        connection.setConnectTimeout(5_000);
        connection.setReadTimeout(5_000);
        connection.setUseCaches(false);
        try {
            int status = connection.getResponseCode();
            InputStream in = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
            String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (status != 200) {
                throw new IOException(method + " " + path + " on admin port " + adminPort + " answered " + status + ": " + body);
            }
            return body.trim();
        } finally {
            connection.disconnect();
        }
    }
}

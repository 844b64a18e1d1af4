package io.connguard.testapps.server;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Answers every request on the main connector the way Harbor does when its database pool is
 * exhausted: while more than {@code cap} TCP connections are open ({@link ConnectionStats} says
 * which count), {@code 401} with Harbor's JSON error body and no {@code WWW-Authenticate} header;
 * otherwise, after {@code delayMs}, {@code 200} with {@code bodyBytes} bytes (keep-alive allowed).
 * A request is judged against the count at the moment it is handled: no grace, as Harbor and
 * nginx give none. A connection the client closed counts until the server has processed its FIN.
 *
 * <p>Waiting never blocks a thread: the delayed answer is scheduled.
 *
 * <p>Query parameters of an admitted request change its {@code 200} answer (the leak tests use them):
 * {@code bytes=N} sends an N-byte body instead of {@code bodyBytes}; {@code slowBodyMs=T&chunks=K}
 * sends the body in K pieces spread over T ms (the first at once, the last after T ms), with its
 * {@code Content-Length} announced up front, so a well-behaved client keeps receiving bytes
 * the whole time. Without them nothing changes. Invalid values are ignored.
 */
final class HarborHandler extends Handler.Abstract {

    static final String REFUSAL_BODY = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":"
            + "\"unauthorized: failed to acquire database connection: too many clients already\"}]}";

    private static final int MAX_BODY_BYTES = 64 * 1024 * 1024;
    private static final int MAX_CHUNKS = 10_000;
    private static final long MAX_SLOW_BODY_MS = 600_000;

    private final ConnectionStats stats;
    private final ScheduledExecutorService scheduler;
    private final int cap;
    private final long delayMs;
    private final ByteBuffer body;
    /** The pattern bodies of other sizes ({@code bytes=N}) are sliced from; grown on demand. */
    private volatile ByteBuffer pattern;
    private final ByteBuffer refusal = ByteBuffer.wrap(REFUSAL_BODY.getBytes(StandardCharsets.UTF_8)).asReadOnlyBuffer();

    HarborHandler(ConnectionStats stats, ScheduledExecutorService scheduler, int cap, long delayMs, int bodyBytes) {
        this.stats = stats;
        this.scheduler = scheduler;
        this.cap = cap;
        this.delayMs = delayMs;
        byte[] bytes = new byte[bodyBytes];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) ('a' + i % 26);
        }
        this.body = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
        this.pattern = body;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        try {
            int open = stats.counted();
            if (cap <= 0 || open <= cap) {
                stats.judgedAt(open);
                if (delayMs > 0) {
                    scheduler.schedule(() -> answerOk(request, response, callback), delayMs, TimeUnit.MILLISECONDS);
                } else {
                    answerOk(request, response, callback);
                }
            } else {
                stats.judgedAt(open);
                refuse(request, response, callback);
            }
        } catch (Throwable t) {
            callback.failed(t);
        }
        return true;
    }

    private void answerOk(Request request, Response response, Callback callback) {
        try {
            String query = request.getHttpURI().getQuery();
            ByteBuffer content = body.slice();
            long slowBodyMs = 0;
            int chunks = 1;
            if (query != null) {
                long bytes = parameter(query, "bytes", -1, MAX_BODY_BYTES);
                if (bytes >= 0) {
                    content = body((int) bytes);
                }
                slowBodyMs = parameter(query, "slowBodyMs", 0, MAX_SLOW_BODY_MS);
                chunks = (int) parameter(query, "chunks", 1, MAX_CHUNKS);
            }
            endIfLast(request);
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, content.remaining());
            Callback served = Callback.from(() -> {
                stats.served();
                callback.succeeded();
            }, callback::failed);
            if (slowBodyMs > 0 && chunks > 1) {
                writeSlowly(response, content, 0, chunks, slowBodyMs / (chunks - 1), served);
            } else {
                response.write(true, content, served);
            }
        } catch (Throwable t) {
            callback.failed(t);
        }
    }

    /** Writes piece {@code index} of {@code chunks} of {@code content}, then schedules the next one. */
    private void writeSlowly(Response response, ByteBuffer content, int index, int chunks, long intervalMs, Callback done) {
        try {
            int total = content.limit(); // content is a slice: position 0, limit = its length
            int from = (int) ((long) total * index / chunks);
            int to = (int) ((long) total * (index + 1) / chunks);
            ByteBuffer piece = content.duplicate();
            piece.position(from).limit(to);
            boolean last = index == chunks - 1;
            if (last) {
                response.write(true, piece.slice(), done);
            } else {
                response.write(false, piece.slice(), Callback.from(() -> scheduler.schedule(
                        () -> writeSlowly(response, content, index + 1, chunks, intervalMs, done),
                        intervalMs, TimeUnit.MILLISECONDS), done::failed));
            }
        } catch (Throwable t) {
            done.failed(t);
        }
    }

    /**
     * A request that asked for {@code Connection: close} gets the last answer of its connection:
     * from now on the server does not count that connection (it was judged with it counted).
     */
    private void endIfLast(Request request) {
        if (request.getHeaders().contains(HttpHeader.CONNECTION, "close")) {
            stats.retire(request.getConnectionMetaData().getConnection());
        }
    }

    /** A read-only body of exactly {@code size} bytes, sliced from the shared pattern. */
    private ByteBuffer body(int size) {
        ByteBuffer source = pattern;
        if (source.capacity() < size) {
            byte[] bytes = new byte[size];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) ('a' + i % 26);
            }
            source = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
            pattern = source;
        }
        ByteBuffer slice = source.duplicate();
        slice.position(0).limit(size);
        return slice.slice();
    }

    /** The value of {@code name} in {@code query}, or {@code fallback} when absent or not a number in [fallback, max]. */
    private static long parameter(String query, String name, long fallback, long max) {
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                try {
                    long value = Long.parseLong(pair.substring(eq + 1));
                    return value >= fallback && value <= max ? value : fallback;
                } catch (NumberFormatException e) {
                    return fallback;
                }
            }
        }
        return fallback;
    }

    private void refuse(Request request, Response response, Callback callback) {
        try {
            endIfLast(request);
            response.setStatus(401);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, refusal.remaining());
            // Deliberately no WWW-Authenticate: this 401 is a refusal, not a challenge.
            stats.refused();
            response.write(true, refusal.slice(), callback);
        } catch (Throwable t) {
            callback.failed(t);
        }
    }
}

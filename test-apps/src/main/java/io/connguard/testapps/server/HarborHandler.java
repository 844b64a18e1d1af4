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
 * exhausted: while more than {@code cap} TCP connections are open, {@code 401} with Harbor's JSON
 * error body and no {@code WWW-Authenticate} header; otherwise, after {@code delayMs}, {@code 200}
 * with {@code bodyBytes} bytes (keep-alive allowed).
 *
 * <p>An over-cap count must persist for {@code graceMs} before a request is refused, so that a
 * connection the client has already closed (FIN in flight, not yet processed by the server's
 * selector) is not held against the client's next connection. Waiting never blocks a thread: the
 * re-check and the delayed answer are scheduled.
 */
final class HarborHandler extends Handler.Abstract {

    static final String REFUSAL_BODY = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":"
            + "\"unauthorized: failed to acquire database connection: too many clients already\"}]}";

    private static final long RECHECK_MS = 5;

    private final ConnectionStats stats;
    private final ScheduledExecutorService scheduler;
    private final int cap;
    private final long delayMs;
    private final long graceNanos;
    private final ByteBuffer body;
    private final ByteBuffer refusal = ByteBuffer.wrap(REFUSAL_BODY.getBytes(StandardCharsets.UTF_8)).asReadOnlyBuffer();

    HarborHandler(ConnectionStats stats, ScheduledExecutorService scheduler, int cap, long delayMs, long graceMs, int bodyBytes) {
        this.stats = stats;
        this.scheduler = scheduler;
        this.cap = cap;
        this.delayMs = delayMs;
        this.graceNanos = TimeUnit.MILLISECONDS.toNanos(graceMs);
        byte[] bytes = new byte[bodyBytes];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) ('a' + i % 26);
        }
        this.body = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        admit(response, callback, System.nanoTime() + graceNanos);
        return true;
    }

    private void admit(Response response, Callback callback, long graceDeadline) {
        try {
            int open = stats.open();
            if (cap <= 0 || open <= cap) {
                stats.judgedAt(open);
                if (delayMs > 0) {
                    scheduler.schedule(() -> answerOk(response, callback), delayMs, TimeUnit.MILLISECONDS);
                } else {
                    answerOk(response, callback);
                }
            } else if (System.nanoTime() - graceDeadline >= 0) {
                stats.judgedAt(open);
                refuse(response, callback);
            } else {
                scheduler.schedule(() -> admit(response, callback, graceDeadline), RECHECK_MS, TimeUnit.MILLISECONDS);
            }
        } catch (Throwable t) {
            callback.failed(t);
        }
    }

    private void answerOk(Response response, Callback callback) {
        try {
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.remaining());
            response.write(true, body.slice(), Callback.from(() -> {
                stats.served();
                callback.succeeded();
            }, callback::failed));
        } catch (Throwable t) {
            callback.failed(t);
        }
    }

    private void refuse(Response response, Callback callback) {
        try {
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

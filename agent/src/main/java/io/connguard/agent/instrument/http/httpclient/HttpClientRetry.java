package io.connguard.agent.instrument.http.httpclient;

import io.connguard.agent.core.RetryCall;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.retry.Retries;
import io.connguard.agent.retry.RetryGlue;
import io.connguard.agent.text.Sentences;
import io.connguard.agent.threads.AgentThreads;
import io.connguard.bootstrap.ConnGuardHooks;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.PushPromiseHandler;
import java.net.http.HttpResponse.ResponseInfo;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;

/**
 * Retries for {@code java.net.http.HttpClient}, sync and async, around
 * {@code HttpClientImpl.sendAsync(request, handler, pushPromiseHandler, executor)}, which
 * {@code send} also goes through. The caller's body handler is wrapped in an {@link Attempt}
 * that looks at the status and headers first: a refusal to retry gets a discarding subscriber
 * (the body is read and the connection returned to the pool), anything else the caller's own
 * handler. The caller gets a future of the whole request: when an attempt was refused, or its
 * connect refused, the same request is sent again after the wait (on a timer, never blocking a
 * thread), with its timeout shortened to what is left of the caller's.
 */
final class HttpClientRetry extends RetryGlue {

    private static final LibraryObjects.FieldFn FACADE_REF = new LibraryObjects.FieldFn("facadeRef");

    private final Retries retries;

    HttpClientRetry(Retries retries) {
        this.retries = retries;
    }

    @Override
    public Object handler(Object client, Object request, Object handler, Object pushPromiseHandler) {
        if (handler instanceof Attempt || !retries.enabled() || !(client instanceof HttpClient)
                || !(request instanceof HttpRequest) || !(handler instanceof BodyHandler)) {
            return handler;
        }
        HttpRequest r = (HttpRequest) request;
        URI uri = r.uri();
        if (uri == null || uri.getHost() == null) {
            return handler;
        }
        long deadline = r.timeout().map(d -> System.nanoTime() + d.toNanos()).orElse(0L);
        RetryCall call = retries.start(ConnGuardHooks.CLIENT_HTTPCLIENT, uri.getHost(),
                Retries.port(uri.getPort(), uri.getScheme()), r.method(), replayable(r), deadline, true);
        if (call == null) {
            return handler;
        }
        @SuppressWarnings("unchecked")
        Call c = new Call(call, (HttpClient) client, r, (BodyHandler<Object>) handler,
                (PushPromiseHandler<Object>) pushPromiseHandler);
        return new Attempt(c, 1);
    }

    /** Bodies of the JDK's own publishers can be sent again; an unknown publisher's cannot be known to. */
    private static boolean replayable(HttpRequest r) {
        return r.bodyPublisher().map(p -> p.contentLength() == 0
                || (p.getClass().getName().startsWith("jdk.internal.net.http.RequestPublishers$")
                && !p.getClass().getName().endsWith("$PublisherAdapter"))).orElse(true);
    }

    @Override
    @SuppressWarnings("unchecked")
    public Object result(Object handler, Object future) {
        if (!(handler instanceof Attempt)) {
            return future;
        }
        Attempt a = (Attempt) handler;
        if (!(future instanceof CompletableFuture)) {
            if (a.number == 1) {
                a.call.retry.end(); // sendAsync threw: the request never started
            }
            return future;
        }
        if (a.number != 1) {
            return future; // a retry the call sent itself: it watches that future
        }
        return a.call.first(a, (CompletableFuture<HttpResponse<Object>>) future);
    }

    /** One request of the caller: its attempts and the future the caller holds. */
    private final class Call {
        final RetryCall retry;
        final HttpClient client;
        final HttpRequest request;
        final BodyHandler<Object> handler;
        final PushPromiseHandler<Object> pushPromises;
        final CompletableFuture<HttpResponse<Object>> result = new CompletableFuture<>();
        volatile CompletableFuture<HttpResponse<Object>> current;

        Call(RetryCall retry, HttpClient client, HttpRequest request, BodyHandler<Object> handler,
             PushPromiseHandler<Object> pushPromises) {
            this.retry = retry;
            this.client = client;
            this.request = request;
            this.handler = handler;
            this.pushPromises = pushPromises;
            client.connectTimeout().ifPresent(d -> retry.connectTimeout(Math.max(1, d.toMillis())));
        }

        CompletableFuture<HttpResponse<Object>> first(Attempt a, CompletableFuture<HttpResponse<Object>> f) {
            result.whenComplete((r, t) -> {
                CompletableFuture<HttpResponse<Object>> c = current;
                if (result.isCancelled() && c != null) {
                    c.cancel(true);
                }
            });
            watch(a, f);
            return result;
        }

        private void watch(Attempt a, CompletableFuture<HttpResponse<Object>> f) {
            current = f;
            f.whenComplete((r, t) -> done(a, r, t));
        }

        private void done(Attempt a, HttpResponse<Object> response, Throwable thrown) {
            try {
                if (result.isDone()) {
                    retry.end();
                    return;
                }
                long wait = -1;
                if (thrown != null) {
                    // Only a refused connect: a reset (HTTP/2 stream, connection) may come after the
                    // request was sent, and the JDK reports it as a SocketException.
                    Throwable cause = unwrap(thrown);
                    if (cause instanceof ConnectException && Retries.connectRefusal(cause)) {
                        wait = retry.connectRefused();
                    }
                } else {
                    wait = a.retryWait;
                }
                if (wait < 0) {
                    finish(response, thrown);
                    return;
                }
                // While no request of it is pending the client lives only through its facade, which
                // the caller may have dropped (fire and forget): hold it until the resend.
                Object facade = facade(client);
                AgentThreads.later(wait, () -> {
                    java.lang.ref.Reference.reachabilityFence(facade);
                    resend(a.number + 1);
                });
            } catch (Throwable t) {
                AgentLog.once(io.connguard.agent.config.LogLevel.WARN, "retry:httpclient",
                        Sentences.retryGlueFailed(HttpClientModule.NAME, t), t);
                finish(response, thrown);
            }
        }

        private void resend(int number) {
            try {
                if (result.isDone()) {
                    retry.end();
                    return;
                }
                HttpRequest next = request;
                long deadline = retry.requestDeadlineNanos();
                if (deadline != 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        left = 1;
                    }
                    next = HttpRequest.newBuilder(request, (name, value) -> true).timeout(Duration.ofNanos(left)).build();
                }
                Attempt attempt = new Attempt(this, number);
                CompletableFuture<HttpResponse<Object>> f = client.sendAsync(next, attempt, pushPromises);
                watch(attempt, f);
                if (result.isCancelled()) {
                    f.cancel(true); // cancelled between the check above and watch()
                }
            } catch (Throwable t) {
                finish(null, t); // sendAsync itself threw (IllegalArgumentException, client closed, …)
            }
        }

        private void finish(HttpResponse<Object> response, Throwable thrown) {
            retry.end();
            if (thrown != null) {
                // As the JDK's own future delivers it (a CompletionException around the cause), so
                // that exceptionally/handle callbacks see the same shape with the agent as without.
                result.completeExceptionally(thrown instanceof CompletionException ? thrown
                        : new CompletionException(thrown));
            } else {
                result.complete(response);
            }
        }
    }

    private static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /** The body handler of one attempt: recognises a refusal from the status and headers. */
    private final class Attempt implements BodyHandler<Object> {
        final Call call;
        final int number;
        /** Milliseconds to wait before the next attempt, or -1 when this one's response is the answer. */
        volatile long retryWait = -1;

        Attempt(Call call, int number) {
            this.call = call;
            this.number = number;
        }

        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public BodySubscriber<Object> apply(ResponseInfo info) {
            RetryCall retry = call.retry;
            int status = info.statusCode();
            if (!retries.mayBeRefusal(retry, status)) {
                return call.handler.apply(info);
            }
            boolean credentials = call.request.headers().firstValue("Authorization").isPresent();
            String challenge = info.headers().firstValue("WWW-Authenticate").orElse(null);
            String retryAfter = info.headers().firstValue("Retry-After").orElse(null);
            if (retries.needsBody(retry, status, credentials, challenge)) {
                long length = info.headers().firstValueAsLong("Content-Length").orElse(-1);
                if (length >= 0 && length <= LibraryObjects.PEEK_LIMIT) {
                    return new Peek(this, info, retryAfter);
                }
                return call.handler.apply(info);
            }
            if (retries.isRefusal(retry, status, credentials, challenge, null)) {
                long wait = retry.refused(status, retryAfter);
                if (wait >= 0) {
                    retryWait = wait;
                    return (BodySubscriber) new Discard();
                }
            }
            return call.handler.apply(info);
        }
    }

    /**
     * Reads a refused body to its end and drops it, so the connection goes back to the pool; a
     * body longer than {@link LibraryObjects#DRAIN_LIMIT} is cancelled (the client then closes the connection).
     */
    private static final class Discard implements BodySubscriber<Void> {
        private final CompletableFuture<Void> body = new CompletableFuture<>();
        private Flow.Subscription subscription;
        private long received;

        @Override
        public CompletionStage<Void> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                received += b.remaining();
            }
            if (received > LibraryObjects.DRAIN_LIMIT && !body.isDone()) {
                subscription.cancel();
                body.complete(null);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            body.complete(null); // the refusal is being retried; its body does not matter
        }

        @Override
        public void onComplete() {
            body.complete(null);
        }
    }

    /** The client's facade (what the caller holds), to keep it reachable across a wait; may be null. */
    private static Object facade(Object client) {
        Object ref = FACADE_REF.read(client);
        return ref instanceof java.lang.ref.Reference ? ((java.lang.ref.Reference<?>) ref).get() : null;
    }

    /**
     * A small 401 body read whole before deciding: a refusal body is dropped and the request
     * retried; any other is handed, unchanged, to the caller's own subscriber.
     */
    private final class Peek implements BodySubscriber<Object> {
        private final Attempt attempt;
        private final ResponseInfo info;
        private final String retryAfter;
        private final List<ByteBuffer> buffers = new ArrayList<>();
        private final CompletableFuture<Object> body = new CompletableFuture<>();

        Peek(Attempt attempt, ResponseInfo info, String retryAfter) {
            this.attempt = attempt;
            this.info = info;
            this.retryAfter = retryAfter;
        }

        @Override
        public CompletionStage<Object> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            buffers.addAll(items);
        }

        @Override
        public void onError(Throwable throwable) {
            body.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            try {
                StringBuilder text = new StringBuilder();
                for (ByteBuffer b : buffers) {
                    ByteBuffer copy = b.duplicate();
                    byte[] bytes = new byte[Math.min(copy.remaining(), LibraryObjects.PEEK_LIMIT)];
                    copy.get(bytes);
                    text.append(LibraryObjects.text(bytes));
                }
                RetryCall retry = attempt.call.retry;
                boolean credentials = true; // needsBody only asks when credentials were sent
                String challenge = info.headers().firstValue("WWW-Authenticate").orElse(null);
                if (retries.isRefusal(retry, info.statusCode(), credentials, challenge, text.toString())) {
                    long wait = retry.refused(info.statusCode(), retryAfter);
                    if (wait >= 0) {
                        attempt.retryWait = wait;
                        body.complete(null);
                        return;
                    }
                }
                replay();
            } catch (Throwable t) {
                body.completeExceptionally(t);
            }
        }

        /** Gives the caller's subscriber the whole body as it came. */
        private void replay() {
            BodySubscriber<Object> user = attempt.call.handler.apply(info);
            user.getBody().whenComplete((v, t) -> {
                if (t != null) {
                    body.completeExceptionally(t);
                } else {
                    body.complete(v);
                }
            });
            List<ByteBuffer> all = List.copyOf(buffers);
            user.onSubscribe(new Flow.Subscription() {
                private boolean sent;

                @Override
                public void request(long n) {
                    if (sent || n <= 0) {
                        return;
                    }
                    sent = true;
                    if (!all.isEmpty()) {
                        user.onNext(all);
                    }
                    user.onComplete();
                }

                @Override
                public void cancel() {
                    sent = true;
                }
            });
        }
    }
}

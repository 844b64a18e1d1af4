package io.connguard.testapps.spring;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /storm?port=P&path=/x&threads=N&requests=M}: N threads each send M GETs to
 * {@code http://127.0.0.1:P/x} (never another host), one new connection per request
 * ({@code HttpURLConnection} with {@code Connection: close}, no keep-alive pool), and answer (and
 * print) {@code RESULT ok=<2xx responses> failed=<the rest> ms=<duration>}, then one
 * {@code FAIL <count> <reason>} line per kind of failure.
 */
@RestController
public class StormController {

    private static final int CONNECT_TIMEOUT_MS = 20_000;
    private static final int READ_TIMEOUT_MS = 20_000;
    private static final long DEADLINE_MS = 45_000;

    @PostMapping(path = "/storm", produces = MediaType.TEXT_PLAIN_VALUE)
    public String storm(@RequestParam("port") int port, @RequestParam(name = "path", defaultValue = "/") String path,
                        @RequestParam(name = "threads", defaultValue = "16") int threads,
                        @RequestParam(name = "requests", defaultValue = "4") int requests)
            throws InterruptedException {
        if (port < 1 || port > 65535 || !path.startsWith("/") || threads < 1 || threads > 256 || requests < 1
                || requests > 1000) {
            throw new IllegalArgumentException("port 1-65535, path starting with /, threads 1-256, requests 1-1000");
        }
        URI uri = URI.create("http://127.0.0.1:" + port + path);
        LongAdder ok = new LongAdder();
        Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();
        AtomicInteger workerSeq = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "storm-" + workerSeq.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        CountDownLatch start = new CountDownLatch(1);
        long began = System.nanoTime();
        try {
            for (int t = 0; t < threads; t++) {
                pool.execute(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    for (int i = 0; i < requests && !Thread.currentThread().isInterrupted(); i++) {
                        String failure = get(uri);
                        if (failure == null) {
                            ok.increment();
                        } else {
                            failures.computeIfAbsent(failure, k -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                });
            }
            start.countDown();
            pool.shutdown();
            if (!pool.awaitTermination(DEADLINE_MS, TimeUnit.MILLISECONDS)) {
                failures.computeIfAbsent("deadline of " + DEADLINE_MS + " ms passed", k -> new AtomicInteger())
                        .addAndGet(threads * requests - ok.intValue()
                                - failures.values().stream().mapToInt(AtomicInteger::get).sum());
            }
        } finally {
            pool.shutdownNow();
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
        int failed = failures.values().stream().mapToInt(AtomicInteger::get).sum();
        StringBuilder sb = new StringBuilder("RESULT ok=").append(ok.sum()).append(" failed=").append(failed)
                .append(" ms=").append(ms).append('\n');
        new TreeMap<>(failures).forEach((reason, count) -> sb.append("FAIL ").append(count.get()).append(' ')
                .append(reason).append('\n'));
        System.out.print(sb);
        System.out.flush();
        return sb.toString();
    }

    /** One GET on a new connection; null when it got a 2xx response, else why not. */
    private static String get(URI uri) {
        HttpURLConnection c = null;
        try {
            c = (HttpURLConnection) uri.toURL().openConnection();
            c.setConnectTimeout(CONNECT_TIMEOUT_MS);
            c.setReadTimeout(READ_TIMEOUT_MS);
            c.setUseCaches(false);
            c.setRequestProperty("Connection", "close");
            int status = c.getResponseCode();
            InputStream body = status >= 400 ? c.getErrorStream() : c.getInputStream();
            if (body != null) {
                try (InputStream in = body) {
                    in.readAllBytes();
                }
            }
            return status / 100 == 2 ? null : "HTTP " + status;
        } catch (IOException | RuntimeException e) {
            String message = e.getMessage();
            return e.getClass().getName() + (message == null ? "" : ": " + message.replaceAll("\\s+", " "));
        } finally {
            if (c != null) {
                c.disconnect();
            }
        }
    }
}

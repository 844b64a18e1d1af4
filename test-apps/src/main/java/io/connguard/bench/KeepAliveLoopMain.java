package io.connguard.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Set;

/**
 * Child JVM of {@link ProcessBench}: sequential HTTP/1.1 GETs over a kept-alive loopback connection
 * to a tiny JDK HttpServer in this JVM, and prints {@code requests_per_sec=<n>} for the measured
 * part, {@code thread_cpu_us_per_op=<n>} (CPU time of the requesting thread per request) and
 * {@code connections=<n>} (client connections the server saw; 1 means keep-alive held).
 *
 * <pre>java [-javaagent:connguard-agent.jar] -cp connguard-test-apps.jar io.connguard.bench.KeepAliveLoopMain
 *      [--requests 20000] [--warmup 5000] [--client urlconnection|httpclient]</pre>
 */
public final class KeepAliveLoopMain {

    private KeepAliveLoopMain() {
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs args = new BenchArgs(argv, Set.of("--requests", "--warmup", "--client"), Set.of());
        int requests = args.integer("--requests", 20_000);
        int warmup = args.integer("--warmup", 5_000);
        String client = args.string("--client", "urlconnection");
        try (Loopback.TinyHttpServer server = new Loopback.TinyHttpServer()) {
            URI uri = URI.create(server.url());
            Loop loop;
            if (client.equals("urlconnection")) {
                URL url = uri.toURL();
                loop = () -> {
                    HttpURLConnection c = (HttpURLConnection) url.openConnection(Proxy.NO_PROXY);
                    try (InputStream in = c.getInputStream()) {
                        return in.readAllBytes().length;
                    }
                };
            } else if (client.equals("httpclient")) {
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .proxy(HttpClient.Builder.NO_PROXY).build();
                HttpRequest request = HttpRequest.newBuilder(uri).GET().build();
                loop = () -> http.send(request, HttpResponse.BodyHandlers.ofByteArray()).body().length;
            } else {
                throw new IllegalArgumentException("--client must be urlconnection or httpclient, got '" + client + "'");
            }
            ThreadMXBean threads = ManagementFactory.getThreadMXBean(); // loaded before the measured part
            long bytes = run(loop, warmup);
            long cpu0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            bytes += run(loop, requests);
            long nanos = System.nanoTime() - t0;
            long cpu = threads.getCurrentThreadCpuTime() - cpu0;
            System.out.printf("client=%s requests=%d warmup=%d seconds=%.3f bytes=%d%n",
                    client, requests, warmup, nanos / 1e9, bytes);
            System.out.println("connections=" + server.connectionsSeen());
            System.out.printf("requests_per_sec=%.1f%n", requests / (nanos / 1e9));
            // CPU time (user + system) of the requesting thread: less disturbed by scheduling than wall clock
            System.out.printf("thread_cpu_us_per_op=%.3f%n", cpu / 1e3 / requests);
        }
    }

    private static long run(Loop loop, int n) throws Exception {
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            bytes += loop.request();
        }
        return bytes;
    }

    private interface Loop {
        int request() throws Exception;
    }
}

package io.connguard.testapps.client;

import com.sun.net.httpserver.HttpServer;
import io.connguard.testapps.common.Args;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Makes {@code java.net.http.HttpClient} open a connection on its own selector thread, and shows
 * whether that connect waited.
 *
 * <p>With a direct executor ({@code Runnable::run}) the client runs its whole exchange pipeline on
 * whichever thread completes a stage. A redirect is followed from the thread that parsed the
 * response headers, which is the {@code HttpClient-N-SelectorManager} thread, so
 * {@code PlainHttpConnection.connectAsync} calls {@code SocketChannel.connect} there. This app
 * holds the only slot of the redirect target (run it with a limit of 1 for that host) and then
 * follows a redirect to it: an agent that waited for a slot on the selector thread would freeze
 * the client until the queue timeout.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.SelectorThreadApp --host 127.0.0.1 --port P
 * </pre>
 * Prints {@code RESULT status=<code> elapsedMs=<n>} or {@code RESULT error=<exception> elapsedMs=<n>}.
 * The redirecting server is an in-process JDK {@code HttpServer}; accepted sockets are never governed.
 */
public final class SelectorThreadApp {

    private SelectorThreadApp() {
    }

    public static void main(String[] argv) throws Exception {
        Args args;
        try {
            args = Args.parse(argv, Set.of("host", "port"), Set.of());
        } catch (Args.UsageException e) {
            Args.exitWithUsage("SelectorThreadApp", "SelectorThreadApp --host 127.0.0.1 --port PORT", e);
            return;
        }
        String host = args.required("host");
        int port = args.requiredInteger("port", 1, 65535);

        HttpServer redirect = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        redirect.createContext("/", exchange -> {
            exchange.getResponseHeaders().add("Location", "http://" + host + ":" + port + "/v2/redirected");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        redirect.start();
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .executor(Runnable::run)
                .followRedirects(HttpClient.Redirect.ALWAYS)
                .build();
        long start = System.nanoTime();
        try (Socket holder = new Socket(host, port)) {
            System.out.println("HOLDING " + holder.getRemoteSocketAddress());
            URI uri = URI.create("http://127.0.0.1:" + redirect.getAddress().getPort() + "/v2/start");
            HttpResponse<String> response = client.sendAsync(HttpRequest.newBuilder(uri).build(),
                    HttpResponse.BodyHandlers.ofString()).get(60, TimeUnit.SECONDS);
            System.out.println("RESULT status=" + response.statusCode() + " elapsedMs=" + elapsed(start));
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            System.out.println("RESULT error=" + cause.getClass().getName() + " elapsedMs=" + elapsed(start));
        } finally {
            redirect.stop(0);
        }
        JmxDump.print(System.out, 5_000);
        System.out.flush();
        System.exit(0);
    }

    private static long elapsed(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
}

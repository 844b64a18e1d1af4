package io.connguard.testapps.client;

import io.connguard.testapps.common.Args;

import java.lang.reflect.Field;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collection;
import java.util.Set;

/**
 * Makes ConnGuard reclaim an idle {@code java.net.http.HttpClient} connection again and again, and
 * shows whether the client still remembers the reclaimed ones.
 *
 * <p>Run with a limit of 1 for the host: each round sends a GET (its connection then sits idle in
 * the client's pool, holding the slot) and then opens a plain socket to the same host, which can
 * only get the slot by reclaiming the idle connection. A reclaim that closed only the channel
 * would leave every reclaimed connection in {@code HttpClientImpl.openedConnections} for the life
 * of the client. Reading that field needs
 * {@code --add-opens java.net.http/jdk.internal.net.http=ALL-UNNAMED}.
 *
 * <pre>
 * java --add-opens java.net.http/jdk.internal.net.http=ALL-UNNAMED -cp connguard-test-apps.jar \
 *      io.connguard.testapps.client.HttpClientReclaimApp --url http://127.0.0.1:P/v2/x [--rounds 20]
 * </pre>
 * Prints {@code RECLAIMAPP ok=<n> rounds=<n> opened=<size of openedConnections, absent where the JDK has no such set, or unknown>}, then
 * the JMX lines.
 */
public final class HttpClientReclaimApp {

    private HttpClientReclaimApp() {
    }

    public static void main(String[] argv) throws Exception {
        Target target;
        int rounds;
        try {
            Args args = Args.parse(argv, Set.of("url", "rounds"), Set.of());
            target = Target.parse(args.required("url"));
            rounds = args.integer("rounds", 20, 1, 1000);
        } catch (Args.UsageException e) {
            Args.exitWithUsage("HttpClientReclaimApp", "HttpClientReclaimApp --url http://127.0.0.1:PORT/path"
                    + " [--rounds 20]", e);
            return;
        }
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(target.uri().toString())).build();
        int ok = 0;
        for (int i = 0; i < rounds; i++) {
            if (client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                ok++;
            }
            Thread.sleep(20); // let the exchange hand its connection back to the pool
            try (Socket socket = new Socket()) {
                socket.connect(target.address(), 10_000);
            }
        }
        System.out.println("RECLAIMAPP ok=" + ok + " rounds=" + rounds + " opened=" + openedConnections(client));
        JmxDump.print(System.out, 5_000);
        System.out.flush();
        System.exit(0);
    }

    private static String openedConnections(HttpClient client) {
        try {
            Field impl = client.getClass().getDeclaredField("impl");
            impl.setAccessible(true);
            Object clientImpl = impl.get(client);
            Field opened;
            try {
                opened = clientImpl.getClass().getDeclaredField("openedConnections");
            } catch (NoSuchFieldException e) {
                // JDK 17.0.15 and earlier updates keep no set of opened connections (a later 17.0.x
                // update added HttpClientImpl.openedConnections): there is nothing to remember.
                return "absent";
            }
            opened.setAccessible(true);
            return Integer.toString(((Collection<?>) opened.get(clientImpl)).size());
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "unknown";
        }
    }
}

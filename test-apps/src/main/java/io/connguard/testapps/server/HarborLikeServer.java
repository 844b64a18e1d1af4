package io.connguard.testapps.server;

import java.io.IOException;
import java.io.InputStream;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import io.connguard.testapps.common.Args;

/**
 * A registry stand-in that behaves like Harbor when its database pool is full: over {@code --cap}
 * open TCP connections it answers {@code 401} (see {@link HarborHandler}). Binds to 127.0.0.1 only.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.server.HarborLikeServer \
 *      [--port 0] [--cap 8] [--delay-ms 40] [--body-bytes 2048] [--admin-port 0]
 *      [--tls-keystore FILE.p12 --tls-password PW] [--ignore-stdin]
 * </pre>
 *
 * Prints exactly one line {@code LISTENING port=<p> admin=<a>} once both connectors are bound.
 * Stops on SIGTERM, and when its stdin reaches end-of-file (unless {@code --ignore-stdin}).
 * Admin port: {@code GET /stats} and {@code POST /reset}. On the main port, {@code ?bytes=N} and
 * {@code ?slowBodyMs=T&chunks=K} change the size and the pace of one answer (see {@link HarborHandler}).
 * Paths under {@code /refuse/} refuse a chosen number of times, and {@code /refuse-stats/<id>} (on
 * both ports) tells what they saw (see {@link RefusingHandler}).
 */
public final class HarborLikeServer {

    static final String USAGE = "HarborLikeServer [--port 0] [--cap 8] [--delay-ms 40] [--body-bytes 2048]"
            + " [--admin-port 0] [--tls-keystore FILE.p12 --tls-password PW] [--ignore-stdin]";

    private final Server server;
    private final ServerConnector main;
    private final ServerConnector admin;
    private final ScheduledExecutorService scheduler;

    HarborLikeServer(int port, int adminPort, int cap, long delayMs, int bodyBytes) {
        this(port, adminPort, cap, delayMs, bodyBytes, null, null);
    }

    /** With a {@code tlsKeyStore} (PKCS12), the main connector speaks HTTPS (HTTP/1.1 over TLS). */
    HarborLikeServer(int port, int adminPort, int cap, long delayMs, int bodyBytes,
                     String tlsKeyStore, String tlsPassword) {
        QueuedThreadPool threads = new QueuedThreadPool(256, 8);
        threads.setName("harbor");
        threads.setDaemon(true);
        server = new Server(threads);

        ConnectionStats stats = new ConnectionStats();
        if (tlsKeyStore == null) {
            main = new ServerConnector(server, 1, 2);
        } else {
            SslContextFactory.Server tls = new SslContextFactory.Server();
            tls.setKeyStorePath(tlsKeyStore);
            tls.setKeyStorePassword(tlsPassword);
            tls.setKeyStoreType("PKCS12");
            main = new ServerConnector(server, 1, 2, new SslConnectionFactory(tls, "http/1.1"),
                    new HttpConnectionFactory(new HttpConfiguration()));
        }
        main.setName("main");
        main.setHost("127.0.0.1");
        main.setPort(port);
        main.setAcceptQueueSize(1024);
        main.addEventListener(stats);
        stats.countFrom(main::getConnectedEndPoints);

        admin = new ServerConnector(server, 1, 1);
        admin.setName("admin");
        admin.setHost("127.0.0.1");
        admin.setPort(adminPort);

        server.setConnectors(new Connector[] {main, admin});
        scheduler = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "harbor-delay");
            t.setDaemon(true);
            return t;
        });
        Handler harbor = new HarborHandler(stats, scheduler, cap, delayMs, bodyBytes);
        Handler adminHandler = new AdminHandler(stats);
        Handler refusing = new RefusingHandler();
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                Connector connector = request.getConnectionMetaData().getConnector();
                if (RefusingHandler.handles(Request.getPathInContext(request))) {
                    return refusing.handle(request, response, callback);
                }
                return (connector == admin ? adminHandler : harbor).handle(request, response, callback);
            }
        });
        server.setStopAtShutdown(true);
    }

    void start() throws Exception {
        server.start();
    }

    int port() {
        return main.getLocalPort();
    }

    int adminPort() {
        return admin.getLocalPort();
    }

    void stop() {
        try {
            server.stop();
        } catch (Exception e) {
            System.err.println("HarborLikeServer: stop failed: " + e);
        }
        scheduler.shutdownNow();
    }

    public static void main(String[] argv) throws Exception {
        // Jetty logs through SLF4J; without a provider SLF4J warns on stderr. Nothing to see here.
        System.setProperty("slf4j.internal.verbosity", "ERROR");
        Args args;
        try {
            args = Args.parse(argv,
                    Set.of("port", "cap", "delay-ms", "body-bytes", "admin-port", "tls-keystore",
                            "tls-password"),
                    Set.of("ignore-stdin"));
        } catch (Args.UsageException e) {
            Args.exitWithUsage("HarborLikeServer", USAGE, e);
            return;
        }
        HarborLikeServer harbor;
        try {
            harbor = new HarborLikeServer(
                    args.integer("port", 0, 0, 65535),
                    args.integer("admin-port", 0, 0, 65535),
                    args.integer("cap", 8, 0, 1_000_000),
                    args.integer("delay-ms", 40, 0, 600_000),
                    args.integer("body-bytes", 2048, 0, 64 * 1024 * 1024),
                    args.string("tls-keystore", null),
                    args.string("tls-password", "changeit"));
        } catch (Args.UsageException e) {
            Args.exitWithUsage("HarborLikeServer", USAGE, e);
            return;
        }
        harbor.start();
        System.out.println("LISTENING port=" + harbor.port() + " admin=" + harbor.adminPort());
        System.out.flush();

        if (!args.flag("ignore-stdin")) {
            Thread watcher = new Thread(() -> {
                awaitEndOfInput(System.in);
                harbor.stop();
                System.exit(0);
            }, "stdin-watcher");
            watcher.setDaemon(true);
            watcher.start();
        }
        harbor.server.join();
    }

    private static void awaitEndOfInput(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // ignore input; only end-of-file matters
            }
        } catch (IOException ignored) {
            // a broken stdin counts as closed
        }
    }
}

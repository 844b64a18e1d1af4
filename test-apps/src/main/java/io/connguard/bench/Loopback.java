package io.connguard.bench;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-process load targets shared by the JMH benchmarks and the whole-process benchmark's child
 * JVMs. Both listen on 127.0.0.1 only, on an ephemeral port. Accepted sockets are not governed by
 * ConnGuard (it only governs outgoing client connects), so only the client side of each benchmark
 * pays for the agent.
 */
public final class Loopback {

    private Loopback() {
    }

    /** 127.0.0.1 as a literal: no name service involved, and the agent's host key is "127.0.0.1". */
    public static InetAddress address() {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A server socket whose only thread accepts and immediately closes every connection. */
    public static final class AcceptCloseServer implements AutoCloseable {
        private final ServerSocket server;
        private final Thread thread;
        private volatile boolean closed;

        public AcceptCloseServer() throws IOException {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(address(), 0), 4096);
            thread = new Thread(this::run, "bench-accept-close");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            while (!closed) {
                try (Socket ignored = server.accept()) {
                    // accepted and closed: the benchmark measures the client's connect + close
                } catch (IOException e) {
                    if (closed) {
                        return;
                    }
                }
            }
        }

        public InetSocketAddress endpoint() {
            return new InetSocketAddress(address(), server.getLocalPort());
        }

        @Override
        public void close() throws IOException {
            closed = true;
            server.close();
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * JDK {@code com.sun.net.httpserver} answering every request with a 2-byte body and a
     * Content-Length, so HTTP/1.1 clients keep the connection alive. Counts distinct client
     * connections (by remote port) so a benchmark can prove that it really reused connections.
     */
    public static final class TinyHttpServer implements AutoCloseable {
        private static final byte[] BODY = "ok".getBytes(StandardCharsets.US_ASCII);

        static {
            // The JDK server writes headers and body separately; without TCP_NODELAY, Nagle and the
            // client's delayed ACK can stall a response by ~40 ms. Read once, when the server's
            // configuration class initialises, so it must be set before the first create().
            if (System.getProperty("sun.net.httpserver.nodelay") == null) {
                System.setProperty("sun.net.httpserver.nodelay", "true");
            }
        }

        private final HttpServer server;
        private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();

        public TinyHttpServer() throws IOException {
            server = HttpServer.create(new InetSocketAddress(address(), 0), 1024);
            server.createContext("/", exchange -> {
                try (InputStream in = exchange.getRequestBody()) {
                    in.readAllBytes();
                }
                clientPorts.add(exchange.getRemoteAddress().getPort());
                exchange.getResponseHeaders().set("Content-Type", "text/plain");
                exchange.sendResponseHeaders(200, BODY.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(BODY);
                }
            });
            server.setExecutor(null); // the dispatcher thread answers: one server thread in total
            server.start();
        }

        public String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/bench";
        }

        /** How many distinct client connections have sent a request so far. */
        public int connectionsSeen() {
            return clientPorts.size();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}

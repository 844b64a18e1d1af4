package io.connguard.agent.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;

/**
 * {@code CONNGUARD_PROMETHEUS_PORT}: the agent's own scrape endpoint, {@code GET /metrics} in the
 * Prometheus text format, served by the JDK's {@code com.sun.net.httpserver} from the agent's
 * shaded Micrometer registry (never the application's).
 *
 * <p>{@link #open} runs on the metrics thread ({@link MetricsHub}), never in premain: binding the
 * port, then loading Micrometer (a few hundred ms of class loading). A port that cannot be bound
 * is one log line naming the setting; the application runs on, with JMX as before.
 */
final class PrometheusEndpoint {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final String host;
    private final int port;
    private volatile boolean failed;

    PrometheusEndpoint(String host, int port) {
        this.host = host;
        this.port = port;
    }

    /** Listens and returns the registry it serves, or null (logged) if it could not start. */
    PrometheusMeterRegistry open() {
        // The Prometheus client reads prometheus.properties through the context class loader: give
        // it one that sees none, so the application's own client settings never reach our copy.
        Thread.currentThread().setContextClassLoader(new ClassLoader(null) {
        });
        HttpServer server;
        String where = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 0);
        } catch (BindException e) {
            fail(Sentences.prometheusPortTaken(where, e));
            return null;
        } catch (Throwable t) {
            fail(Sentences.prometheusListenFailed(where, t));
            return null;
        }
        PrometheusMeterRegistry registry;
        try {
            registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            server.createContext("/metrics", exchange -> serve(exchange, registry));
            server.setExecutor(null); // one dispatcher thread: scrapes are rare and short
            server.start();
        } catch (Throwable t) {
            server.stop(0);
            fail(Sentences.prometheusStartFailed(where, t));
            return null;
        }
        AgentLog.info(Sentences.prometheusServing(where));
        return registry;
    }

    /** {@link #open} as a sink for the binder, or null. */
    HostMeterBinder.Sink sink() {
        PrometheusMeterRegistry registry = open();
        return registry == null ? null : new HostMeterBinder.AgentSink(registry);
    }

    private void fail(String line) {
        failed = true;
        AgentLog.error(line);
    }

    /** Whether the endpoint could not start (for tests). */
    boolean failed() {
        return failed;
    }

    private static void serve(HttpExchange exchange, PrometheusMeterRegistry registry) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (!path.equals("/metrics") && !path.equals("/metrics/")) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
            registry.scrape(body, CONTENT_TYPE);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.size());
            try (OutputStream out = exchange.getResponseBody()) {
                body.writeTo(out);
            }
        } catch (Throwable t) {
            AgentLog.debug(Sentences.prometheusScrapeFailed(t));
        }
    }
}

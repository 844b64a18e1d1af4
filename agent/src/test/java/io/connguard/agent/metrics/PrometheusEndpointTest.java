package io.connguard.agent.metrics;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.LocalSlotStore;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The endpoint on a real port, in this JVM (the IT scrapes it inside an application with the agent). */
class PrometheusEndpointTest {

    @Test
    void servesTheMetersOfEveryHostAsPrometheusText() throws Exception {
        int port = freePort();
        MetricsHub endpoint = new MetricsHub("127.0.0.1", port, false);
        Governor governor = new Governor((h, p) -> 3, new LocalSlotStore(), 100, 10, new Governor.Listener() {
            @Override
            public void hostAdded(HostState host) {
                endpoint.binder().hostAdded(host);
            }
        });
        governor.beforeConnect(new Object(), "registry.local", 5000, 0, true);
        endpoint.ready(null);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = null;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < end) {
            try {
                response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.body().contains("connguard_connections_open")) {
                    break;
                }
            } catch (java.io.IOException notYet) {
                // the endpoint's thread is still loading Micrometer
            }
            Thread.sleep(50);
        }
        assertThat(response).isNotNull();
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue(PrometheusEndpoint.CONTENT_TYPE);
        assertThat(response.body()).contains("connguard_connections_open{host=\"registry.local\",port=\"5000\"} 1")
                .contains("connguard_connections_limit{host=\"registry.local\",port=\"5000\"} 3");

        // A destination seen later gets its meters too.
        governor.beforeConnect(new Object(), "other.local", 80, 0, true);
        String body = "";
        end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!body.contains("other.local") && System.nanoTime() < end) {
            body = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Thread.sleep(20);
        }
        assertThat(body).contains("connguard_connects_total{host=\"other.local\",port=\"80\"} 1");
        assertThat(client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/other")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
        assertThat(client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(405);
    }

    @Test
    void aBusyPortFailsOnceAndQuietly() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            MetricsHub endpoint = new MetricsHub("127.0.0.1", busy.getLocalPort(), false);
            endpoint.ready(null);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!endpoint.prometheusFailed() && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertThat(endpoint.prometheusFailed()).isTrue();
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}

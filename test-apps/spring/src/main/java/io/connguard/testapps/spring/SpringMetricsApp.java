package io.connguard.testapps.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.event.EventListener;

/**
 * A Spring Boot application that uses Micrometer itself: Boot's Prometheus registry, fed into
 * {@code Metrics.globalRegistry} as Boot does by default, served at {@code /actuator/prometheus}.
 * Run from Boot's executable jar, its Micrometer is loaded by Boot's {@code LaunchedClassLoader}
 * from a nested jar.
 *
 * <p>It listens on 127.0.0.1 and a free port ({@code application.properties}; any Boot setting can
 * be overridden with {@code --name=value} or {@code -Dname=value}) and prints
 * {@code READY port=<port>} once it serves requests. {@code POST /storm} (see
 * {@link StormController}) sends plain HTTP GETs to a port of 127.0.0.1.
 */
@SpringBootApplication
public class SpringMetricsApp {

    public static void main(String[] args) {
        SpringApplication.run(SpringMetricsApp.class, args);
    }

    @EventListener
    public void ready(ApplicationReadyEvent event) {
        int port = event.getApplicationContext() instanceof WebServerApplicationContext web
                ? web.getWebServer().getPort() : -1;
        System.out.println("READY port=" + port);
        System.out.flush();
    }
}

package io.connguard.it;

import org.junit.jupiter.api.Test;

import io.connguard.testapps.clients.ClientDriver;
import io.connguard.testapps.clients.UrlConnectionDriver;

/**
 * {@link ClientContract} for {@code HttpURLConnection} ({@link UrlConnectionDriver}), whose
 * keep-alive cache is the JVM's: the storm and the reclaim run share it between threads. Leaks are
 * also checked on JDK 25.
 */
class UrlConnectionClientIT extends ClientContract {

    @Override
    String name() {
        return "url";
    }

    @Override
    Class<? extends ClientDriver> driver() {
        return UrlConnectionDriver.class;
    }

    @Override
    String client() {
        return "HttpURLConnection";
    }

    @Override
    boolean onePoolPerJvm() {
        return true;
    }

    @Override
    String perThreadKind() {
        return "urlconnection";
    }

    @Override
    String stormKind() {
        return "urlconnection";
    }

    @Override
    boolean ofTheJdk() {
        return true;
    }

    @Test
    void aHeldResponseIsReportedOnJdk25() {
        assertHold(25);
    }

    @Test
    void droppedResponsesAreReportedAsGarbageOnJdk25() {
        assertDrop(25);
    }
}

package io.connguard.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.connguard.testapps.leak.LeakyJdkHttpClient;

/**
 * Leak reports for a {@code java.net.http.HttpClient} response body ({@code ofInputStream}) left open, on
 * JDK 17 and 25. Only the age detector applies: the client keeps its connections reachable from its
 * selector thread, so a dropped response never becomes garbage and there is no drop mode.
 * See {@link LeakContract}.
 */
class LeakJdkHttpClientIT extends LeakContract {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(0, 5);

    @Override
    Class<?> app() {
        return LeakyJdkHttpClient.class;
    }

    @Override
    String client() {
        return "java.net.http.HttpClient";
    }

    @Override
    HarborServer server() {
        return SERVER;
    }

    /** The connection may be taken from the pool on one of the client's executor threads. */
    @Override
    boolean borrowsOnCallerThread() {
        return false;
    }

    @Override
    boolean dropsBecomeGarbage() {
        return false;
    }

    @Test
    void aHeldResponseIsReportedOnJdk25() {
        assertHold(25);
    }
}

package io.connguard.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.connguard.testapps.leak.LeakyUrlConnection;

/**
 * Leak reports for an {@code HttpURLConnection} body stream left open, on JDK 17 and 25.
 * See {@link LeakContract}.
 */
class LeakUrlConnectionIT extends LeakContract {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(0, 5);

    @Override
    Class<?> app() {
        return LeakyUrlConnection.class;
    }

    @Override
    String client() {
        return "HttpURLConnection";
    }

    @Override
    HarborServer server() {
        return SERVER;
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

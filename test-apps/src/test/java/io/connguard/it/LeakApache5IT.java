package io.connguard.it;

import org.junit.jupiter.api.extension.RegisterExtension;

import io.connguard.testapps.leak.LeakyApache5;

/**
 * Leak reports for an Apache HttpClient 5 (classic) response left open.
 * See {@link LeakContract}.
 */
class LeakApache5IT extends LeakContract {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(0, 5);

    @Override
    Class<?> app() {
        return LeakyApache5.class;
    }

    @Override
    String client() {
        return "Apache HttpClient 5";
    }

    @Override
    HarborServer server() {
        return SERVER;
    }
}

package io.connguard.it;

import org.junit.jupiter.api.extension.RegisterExtension;

import io.connguard.testapps.leak.LeakyOkHttp;

/**
 * Leak reports for an OkHttp response left open.
 * See {@link LeakContract}.
 */
class LeakOkHttpIT extends LeakContract {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(0, 5);

    @Override
    Class<?> app() {
        return LeakyOkHttp.class;
    }

    @Override
    String client() {
        return "OkHttp";
    }

    @Override
    HarborServer server() {
        return SERVER;
    }
}

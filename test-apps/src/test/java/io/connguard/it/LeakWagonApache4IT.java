package io.connguard.it;

import org.junit.jupiter.api.extension.RegisterExtension;

import io.connguard.testapps.leak.LeakyWagonApache4;

/**
 * Leak reports for Maven's relocated copy of Apache HttpClient 4 (wagon-http, shaded, under
 * {@code org.apache.maven.wagon.providers.http.httpclient}), which ConnGuard must recognise by its
 * structure; it is reported as Apache HttpClient 4.
 * See {@link LeakContract}.
 */
class LeakWagonApache4IT extends LeakContract {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(0, 5);

    @Override
    Class<?> app() {
        return LeakyWagonApache4.class;
    }

    @Override
    String client() {
        return "Apache HttpClient 4";
    }

    @Override
    HarborServer server() {
        return SERVER;
    }
}

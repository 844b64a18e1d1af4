package io.connguard.it;

import io.connguard.testapps.clients.ClientDriver;
import io.connguard.testapps.clients.WagonApache4Driver;

/**
 * {@link ClientContract} for Maven's relocated copy of Apache HttpClient 4 (wagon-http, shaded, under
 * {@code org.apache.maven.wagon.providers.http.httpclient}; {@link WagonApache4Driver}), which
 * ConnGuard must recognise by its structure; it is reported as Apache HttpClient 4.
 */
class WagonApache4ClientIT extends ClientContract {

    @Override
    String name() {
        return "wagon";
    }

    @Override
    Class<? extends ClientDriver> driver() {
        return WagonApache4Driver.class;
    }

    @Override
    String client() {
        return "Apache HttpClient 4";
    }

    @Override
    String sharedPoolKind() {
        return "wagon-shared";
    }

    @Override
    String perThreadKind() {
        return "wagon-per-thread";
    }
}

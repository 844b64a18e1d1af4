package io.connguard.it;

import io.connguard.testapps.clients.Apache5Driver;
import io.connguard.testapps.clients.ClientDriver;

/** {@link ClientContract} for Apache HttpClient 5, classic API ({@link Apache5Driver}). */
class Apache5ClientIT extends ClientContract {

    @Override
    String name() {
        return "apache5";
    }

    @Override
    Class<? extends ClientDriver> driver() {
        return Apache5Driver.class;
    }

    @Override
    String client() {
        return "Apache HttpClient 5";
    }

    @Override
    String sharedPoolKind() {
        return "apache5-shared";
    }

    @Override
    String perThreadKind() {
        return "apache5-per-thread";
    }

    /** Its {@code HttpHostConnectException} copies ConnGuard's message and drops the cause. */
    @Override
    boolean keepsTheLimitExceptionInItsCauses() {
        return false;
    }
}

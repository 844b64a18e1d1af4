package io.connguard.it;

import io.connguard.testapps.clients.ClientDriver;
import io.connguard.testapps.clients.OkHttpDriver;

/** {@link ClientContract} for OkHttp 4 ({@link OkHttpDriver}). */
class OkHttpClientIT extends ClientContract {

    @Override
    String name() {
        return "okhttp";
    }

    @Override
    Class<? extends ClientDriver> driver() {
        return OkHttpDriver.class;
    }

    @Override
    String client() {
        return "OkHttp";
    }

    @Override
    String perThreadKind() {
        return "okhttp-per-thread";
    }
}

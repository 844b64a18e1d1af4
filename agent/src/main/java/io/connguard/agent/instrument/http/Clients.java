package io.connguard.agent.instrument.http;

import io.connguard.agent.instrument.http.apache4.Apache4Module;
import io.connguard.agent.instrument.http.apache5.Apache5Module;
import io.connguard.agent.instrument.http.httpclient.HttpClientModule;
import io.connguard.agent.instrument.http.okhttp.OkHttpModule;
import io.connguard.agent.instrument.http.urlconnection.UrlConnectionModule;

import java.util.List;

/**
 * The supported clients: one module per folder, each under its id in {@code ConnGuardHooks}.
 * Adding a client is a new folder, an id there, and one line here.
 */
public final class Clients {

    private Clients() {
    }

    public static List<ClientModule> all() {
        return List.of(
                new UrlConnectionModule(),
                new HttpClientModule(),
                new Apache4Module(),
                new Apache5Module(),
                new OkHttpModule());
    }

    /** The length of an array indexed by the ids of {@code clients}. */
    public static int idBound(List<ClientModule> clients) {
        int bound = 0;
        for (ClientModule c : clients) {
            bound = Math.max(bound, c.id() + 1);
        }
        return bound;
    }
}

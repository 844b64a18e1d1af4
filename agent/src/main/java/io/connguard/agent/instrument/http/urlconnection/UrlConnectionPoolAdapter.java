package io.connguard.agent.instrument.http.urlconnection;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.PoolAdapter;

import io.connguard.agent.core.line.HostLine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Proxy;
import java.net.Socket;
import java.net.URL;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code HttpURLConnection} keep-alive cache: its pooled objects are
 * {@code sun.net.www.http.HttpClient}s, whose socket is {@code sun.net.NetworkClient.serverSocket}
 * (a non-exported package of {@code java.base}, opened to the agent at start-up; the handle is
 * looked up on first use, never in premain).
 */
final class UrlConnectionPoolAdapter extends PoolAdapter {

    /** Reclaims a keep-alive socket (TLS or plain) by closing it. */
    private static final Governor.PooledCloser CLOSE_SOCKET = pooled -> ((Socket) pooled).close();

    private static volatile VarHandle serverSocket;
    private static volatile VarHandle sslContext;

    private final PoolKind kind = new PoolKind(UrlConnectionModule.NAME,
            (key, pooled) -> key == null ? null : counted(socket(key)), null);

    /**
     * The connect timeout of the {@code HttpClient.New} running on this thread (0 = none), or
     * absent outside one (then a cache miss never waits: {@code closeIdleConnection} looks up the
     * cache too) or when it goes through a proxy (the cap of the target is not the one it
     * connects to).
     */
    private final ThreadLocal<Integer> leasing = new ThreadLocal<>();

    /** One pool object per cache key, so that the line can tell the pools apart by identity. */
    private final ConcurrentHashMap<Route, Route> routes = new ConcurrentHashMap<>();

    UrlConnectionPoolAdapter(Governor governor) {
        super(governor);
    }

    /**
     * {@code HttpClient.New(URL, Proxy, int, boolean, HttpURLConnection)} or
     * {@code HttpsClient.New(SSLSocketFactory, URL, HostnameVerifier, Proxy, boolean, int,
     * HttpURLConnection)} starts (JDK 17 and 25): its arguments, the one proxy and the one
     * {@code int} (the connect timeout) found by type.
     */
    @Override
    public void leasing(Object newArguments) {
        Integer timeout = null;
        boolean direct = true;
        for (Object a : (Object[]) newArguments) {
            if (a instanceof Integer) {
                timeout = Math.max(0, (Integer) a);
            } else if (a instanceof Proxy && ((Proxy) a).type() != Proxy.Type.DIRECT) {
                direct = false;
            }
        }
        if (direct && timeout != null) {
            leasing.set(timeout);
        } else {
            leasing.remove();
        }
    }

    @Override
    public Object leaseEnded(Object leased) {
        leasing.remove();
        governor.endAwait(); // the connect of the lease has run: its slot, if unused, goes back
        return null;
    }

    /** {@code KeepAliveCache.get(URL, Object)} found nothing for {@code url} and {@code obj}. */
    @Override
    public Object miss(Object url, Object obj) {
        Integer timeout = leasing.get();
        if (timeout == null) {
            return null;
        }
        URL u = (URL) url;
        int port = u.getPort() == -1 ? u.getDefaultPort() : u.getPort();
        return governor.awaitConnection(u.getHost(), port, route(u, obj), timeout);
    }

    /**
     * {@code KeepAliveCache.put(URL, Object, HttpClient)}: after {@code putInKeepAliveCache} marked
     * it idle and set its {@code inCache}, which {@code HttpClient.New} clears again when the waiter
     * it is handed to takes it.
     */
    @Override
    public boolean offer(Object url, Object obj, Object client) throws Throwable {
        Socket socket = socket(client);
        if (socket == null) {
            return false;
        }
        HostLine.Offer o = governor.offerIdle(counted(socket), route((URL) url, obj), client);
        if (o == HostLine.Offer.CLOSE) {
            socket.close(); // never cached: the close hook gives its slot to the head of the line
        }
        return o != HostLine.Offer.IDLE;
    }

    private Route route(URL u, Object obj) {
        Route r = new Route(u.getProtocol(), u.getHost(), u.getPort(), tls(obj));
        Route known = routes.putIfAbsent(r, r);
        return known != null ? known : r;
    }

    /**
     * The keep-alive cache's key ({@code KeepAliveKey}: protocol, host, port, and the socket
     * factory of HTTPS by identity). Kept for the JVM's life, as the cache keeps its keys while
     * they have connections; one per destination and factory.
     */
    private static final class Route {
        final String protocol;
        final String host;
        final int port;
        final Object obj;

        Route(String protocol, String host, int port, Object obj) {
            this.protocol = protocol;
            this.host = host;
            this.port = port;
            this.obj = obj;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Route)) {
                return false;
            }
            Route r = (Route) o;
            return port == r.port && obj == r.obj && protocol.equals(r.protocol) && Objects.equals(host, r.host);
        }

        @Override
        public int hashCode() {
            return (protocol.hashCode() * 31 + Objects.hashCode(host)) * 31 + port + System.identityHashCode(obj);
        }
    }

    @Override
    public Object idle(Object pooled) throws Throwable {
        governor.returnedToPool(pooled);
        Socket socket = socket(pooled);
        return socket == null ? null : governor.idle(counted(socket), socket, CLOSE_SOCKET);
    }

    @Override
    public boolean taken(Object pooled) throws Throwable {
        Socket socket = socket(pooled);
        // A cached client whose socket is gone was closed: never hand it out.
        return socket != null && governor.taken(counted(socket), socket.isClosed());
    }

    @Override
    public void borrowed(Object key, Object pooled, Object handle) throws Throwable {
        governor.borrowed(kind, key, null, counted(socket(key)), null, null, true);
    }

    /**
     * What an HTTPS cache key's socket factory stands for: the JDK's own factory
     * ({@code sun.security.ssl.SSLSocketFactoryImpl}, JDK 17 and 25) is a thin wrapper of its
     * {@code SSLContext}, and {@code HttpsURLConnection.getDefaultSSLSocketFactory()} initialises its
     * default without a lock, so the first requests of a storm each get a factory of their own over
     * the one default context. Connections of those factories are interchangeable: a request waits
     * for, and is handed, any connection of the same context. Any other factory stands for itself.
     */
    private static Object tls(Object factory) {
        if (factory == null || !"sun.security.ssl.SSLSocketFactoryImpl".equals(factory.getClass().getName())) {
            return factory;
        }
        try {
            VarHandle h = sslContext;
            if (h == null) {
                Class<?> c = factory.getClass();
                h = MethodHandles.privateLookupIn(c, MethodHandles.lookup())
                        .findVarHandle(c, "context", c.getDeclaredField("context").getType());
                sslContext = h;
            }
            Object context = h.get(factory);
            return context != null ? context : factory;
        } catch (Throwable t) {
            return factory;
        }
    }

    /** {@code sun.net.NetworkClient.serverSocket} of a {@code sun.net.www.http.HttpClient}. */
    private static Socket socket(Object httpClient) throws ReflectiveOperationException {
        VarHandle h = serverSocket;
        if (h == null) {
            Class<?> networkClient = LibraryObjects.superclassNamed(httpClient.getClass(), "sun.net.NetworkClient");
            h = MethodHandles.privateLookupIn(networkClient, MethodHandles.lookup())
                    .findVarHandle(networkClient, "serverSocket", Socket.class);
            serverSocket = h;
        }
        return (Socket) h.get(httpClient);
    }
}

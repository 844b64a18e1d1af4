package io.connguard.agent.instrument.http.httpclient;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.instrument.http.CallSites;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.PoolAdapter;
import io.connguard.agent.instrument.socket.ChannelDescriptors;
import io.connguard.agent.core.line.HostLine;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@code java.net.http.HttpClient} pool ({@code jdk.internal.net.http.ConnectionPool}): the
 * counted channel of a pooled HTTP/1.1 connection is its {@code HttpConnection.channel()}. The
 * pool holds them in the non-exported package {@code jdk.internal.net.http} of
 * {@code java.net.http}, which the agent opens to itself at start-up; the handles are looked up
 * on first use, never in premain.
 */
final class HttpClientPoolAdapter extends PoolAdapter {

    /**
     * The longest a reclaim waits for the server to close its side of a half-closed connection;
     * a loopback or LAN server needs well under 1 ms (as {@code GracefulClose} for sockets).
     */
    private static final long SERVER_CLOSE_MILLIS = 100;

    private static final String HTTP_CONNECTION = "jdk.internal.net.http.HttpConnection";

    private static volatile MethodHandle channel;
    private static volatile MethodHandle close;
    private static volatile VarHandle multi;
    private static volatile MethodHandle connectionPool;
    private static volatile MethodHandle isSecure;
    private static volatile MethodHandle proxy;
    private static volatile MethodHandle address;
    private static volatile VarHandle connections;

    private final PoolKind kind = new PoolKind(HttpClientModule.NAME,
            (key, pooled) -> key == null ? null : channel(key), null);
    private final CallSites sites;

    HttpClientPoolAdapter(Governor governor, CallSites sites) {
        super(governor);
        this.sites = sites;
    }

    @Override
    public Object idle(Object pooled) throws Throwable {
        governor.returnedToPool(pooled);
        return governor.idle(channel(pooled), pooled, this::reclaim);
    }

    @Override
    public boolean taken(Object pooled) throws Throwable {
        SocketChannel channel = channel(pooled);
        return channel == null || governor.taken(channel, !channel.isOpen());
    }

    @Override
    public void borrowed(Object key, Object pooled, Object handle) throws Throwable {
        // On the client's executor: the stack worth showing was taken in send().
        Throwable site = handle == null ? null : sites.take(multiExchange(handle));
        governor.borrowed(kind, key, null, channel(key), null, site, false);
    }

    /**
     * {@code getPlainConnection(addr, proxy, request, client)} or
     * {@code getSSLConnection(addr, proxy, alpn, request, client)} is about to make a new connection:
     * the pool had none. Not through a proxy (the cap of the target is not the one it connects
     * to), nor for an HTTP/2 attempt (ALPN offered: the HTTP/1.1 pool does not hold those). The
     * wait is bounded by the client's connect timeout and the request's timeout, whichever is less.
     */
    @Override
    public Object miss(Object route, Object detail) throws Throwable {
        Object[] a = (Object[]) route;
        boolean secure = a.length == 5;
        if (a[1] != null || (secure && a[2] != null) || !(a[0] instanceof InetSocketAddress)) {
            return null;
        }
        InetSocketAddress addr = (InetSocketAddress) a[0];
        HttpRequest request = (HttpRequest) a[a.length - 2];
        HttpClient client = (HttpClient) a[a.length - 1];
        long timeout = Math.min(millis(client.connectTimeout()), millis(request.timeout()));
        return governor.awaitConnection(addr.getHostString(), addr.getPort(),
                new Route(connectionPool(client), secure, addr), timeout == Long.MAX_VALUE ? 0 : timeout);
    }

    private static long millis(Optional<Duration> d) {
        return d.isPresent() ? Math.max(1, d.get().toMillis()) : Long.MAX_VALUE;
    }

    /**
     * The new connection {@link #miss} let be made: the slot reserved for it is counted on its
     * channel now; a refusal closes it (its channel is open) and is thrown instead.
     */
    @Override
    public Object leaseEnded(Object leased) throws Throwable {
        if (leased == null) {
            governor.endAwait();
            return null;
        }
        SocketChannel ch = channel(leased);
        java.io.IOException refusal = governor.claimReservation(ch, ch == null ? null : ChannelDescriptors.residue(ch));
        if (refusal != null) {
            closeHttpConnection(leased);
        }
        return refusal;
    }

    /**
     * {@code ConnectionPool.returnToPool(connection, now, keepAlive)}: after the one-argument form
     * marked it idle. Handed over, or closed for the head of the line, it is not pooled.
     */
    @Override
    public boolean offer(Object pool, Object detail, Object pooled) throws Throwable {
        SocketChannel ch = channel(pooled);
        if (ch == null || invoke(proxy, "proxy", InetSocketAddress.class, pooled) != null) {
            return false;
        }
        Route route = new Route(pool, (Boolean) invoke(isSecure, "isSecure", boolean.class, pooled),
                (InetSocketAddress) invoke(address, "address", InetSocketAddress.class, pooled));
        HostLine.Offer o = governor.offerIdle(ch, route, pooled);
        if (o == HostLine.Offer.CLOSE) {
            closeHttpConnection(pooled); // never pooled: the close hook gives its slot to the head of the line
        }
        return o != HostLine.Offer.IDLE;
    }

    /**
     * One pool's connections to one destination: its {@code ConnectionPool} (by identity), TLS or
     * not, and the address, as the pool's own {@code CacheKey} (without a proxy). A value object,
     * made per lookup: nothing is kept per client or destination.
     */
    private static final class Route {
        final Object pool;
        final boolean secure;
        final InetSocketAddress address;

        Route(Object pool, boolean secure, InetSocketAddress address) {
            this.pool = pool;
            this.secure = secure;
            this.address = address;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Route)) {
                return false;
            }
            Route r = (Route) o;
            return pool == r.pool && secure == r.secure && address.equals(r.address);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(pool) * 31 + address.hashCode() + (secure ? 1 : 0);
        }
    }

    /** {@code HttpClientImpl.connectionPool()} of the client. */
    private static Object connectionPool(Object client) throws Throwable {
        MethodHandle h = connectionPool;
        if (h == null) {
            Class<?> type = LibraryObjects.superclassNamed(client.getClass(), "jdk.internal.net.http.HttpClientImpl");
            Class<?> poolType = Class.forName("jdk.internal.net.http.ConnectionPool", false, type.getClassLoader());
            h = MethodHandles.privateLookupIn(type, MethodHandles.lookup())
                    .findVirtual(type, "connectionPool", MethodType.methodType(poolType))
                    .asType(MethodType.methodType(Object.class, Object.class));
            connectionPool = h;
        }
        return h.invokeExact(client);
    }

    /** A no-argument method of {@code HttpConnection} ({@code isSecure}, {@code proxy}, {@code address}). */
    private static Object invoke(MethodHandle cached, String name, Class<?> returns, Object httpConnection)
            throws Throwable {
        MethodHandle h = cached;
        if (h == null) {
            Class<?> type = LibraryObjects.superclassNamed(httpConnection.getClass(), HTTP_CONNECTION);
            h = MethodHandles.privateLookupIn(type, MethodHandles.lookup())
                    .findVirtual(type, name, MethodType.methodType(returns))
                    .asType(MethodType.methodType(Object.class, Object.class));
            switch (name) {
                case "isSecure":
                    isSecure = h;
                    break;
                case "proxy":
                    proxy = h;
                    break;
                default:
                    address = h;
            }
        }
        return h.invokeExact(httpConnection);
    }

    /** {@code jdk.internal.net.http.HttpConnection.channel()} of a pooled HTTP/1.1 connection. */
    private static SocketChannel channel(Object httpConnection) throws Throwable {
        MethodHandle h = channel;
        if (h == null) {
            Class<?> type = LibraryObjects.superclassNamed(httpConnection.getClass(), HTTP_CONNECTION);
            h = MethodHandles.privateLookupIn(type, MethodHandles.lookup())
                    .findVirtual(type, "channel", MethodType.methodType(SocketChannel.class))
                    .asType(MethodType.methodType(SocketChannel.class, Object.class));
            channel = h;
        }
        return (SocketChannel) h.invokeExact(httpConnection);
    }

    /**
     * Reclaims a pooled connection so that the server has seen the close before its slot moves (a
     * server counting open connections would otherwise count it and its replacement together):
     * where this thread may wait, it half-closes the channel; the server closes its side, and the
     * pool's own cleanup trigger (which watches idle connections for end of stream) closes the
     * connection, whose close hook releases the slot. Bounded by {@link #SERVER_CLOSE_MILLIS}.
     * Then, or at once on an event loop, it closes it through its own {@code HttpConnection.close()},
     * so the client forgets it too (closing only the channel would leave it in the client's set of
     * open connections for good); closing a closed connection does nothing.
     */
    private void reclaim(Object pooled) throws Throwable {
        SocketChannel ch = channel(pooled);
        if (ch != null && ch.isOpen() && governor.mayWaitHere()) {
            try {
                ch.shutdownOutput();
                governor.awaitReleased(ch, SERVER_CLOSE_MILLIS);
            } catch (java.io.IOException e) {
                // closed meanwhile, or not connected: close it as usual
            }
        }
        closeHttpConnection(pooled);
    }

    /**
     * {@code HttpClientImpl.shutdown()} on the application's thread (JDK 21+): its pool's idle
     * connections whose host has waiters are reclaimed now, each closed after the server (see
     * {@link #reclaim}), not all at once by the client's selector thread.
     */
    @Override
    public void clientClosing(Object client) throws Throwable {
        if (!governor.mayWaitHere()) {
            return;
        }
        VarHandle h = connections;
        if (h == null) {
            h = MethodHandles.privateLookupIn(client.getClass(), MethodHandles.lookup())
                    .findVarHandle(client.getClass(), "connections",
                            Class.forName("jdk.internal.net.http.ConnectionPool", false, client.getClass().getClassLoader()));
            connections = h;
        }
        Object pool = h.get(client);
        if (pool != null) {
            governor.reclaimClosingPool(p -> p instanceof Route && ((Route) p).pool == pool);
        }
    }

    /** {@code jdk.internal.net.http.HttpConnection.close()}: how the client itself closes a connection. */
    private static void closeHttpConnection(Object httpConnection) throws Throwable {
        MethodHandle h = close;
        if (h == null) {
            Class<?> type = LibraryObjects.superclassNamed(httpConnection.getClass(), HTTP_CONNECTION);
            h = MethodHandles.privateLookupIn(type, MethodHandles.lookup())
                    .findVirtual(type, "close", MethodType.methodType(void.class))
                    .asType(MethodType.methodType(void.class, Object.class));
            close = h;
        }
        h.invokeExact(httpConnection);
    }

    /**
     * {@code jdk.internal.net.http.Exchange.multi}: the {@code MultiExchange} of an exchange (JDK
     * 17 and 25), the request object made on the caller's thread.
     */
    private static Object multiExchange(Object exchange) throws ReflectiveOperationException {
        VarHandle h = multi;
        if (h == null) {
            Class<?> type = LibraryObjects.superclassNamed(exchange.getClass(), "jdk.internal.net.http.Exchange");
            Class<?> multiType = Class.forName("jdk.internal.net.http.MultiExchange", false, type.getClassLoader());
            h = MethodHandles.privateLookupIn(type, MethodHandles.lookup()).findVarHandle(type, "multi", multiType);
            multi = h;
        }
        return h.get(exchange);
    }
}

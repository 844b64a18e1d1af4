package io.connguard.agent.instrument.http.httpclient;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.PoolKind;
import io.connguard.agent.instrument.http.CallSites;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.instrument.http.PoolAdapter;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.channels.SocketChannel;

/**
 * The {@code java.net.http.HttpClient} pool ({@code jdk.internal.net.http.ConnectionPool}): the
 * counted channel of a pooled HTTP/1.1 connection is its {@code HttpConnection.channel()}. The
 * pool holds them in the non-exported package {@code jdk.internal.net.http} of
 * {@code java.net.http}, which the agent opens to itself at start-up; the handles are looked up
 * on first use, never in premain.
 */
final class HttpClientPoolAdapter extends PoolAdapter {

    /**
     * Reclaims a pooled connection through its own {@code HttpConnection.close()}, so the client
     * forgets it too (closing only the channel would leave it in the client's set of open
     * connections for good).
     */
    private static final Governor.PooledCloser CLOSE_HTTP_CONNECTION = HttpClientPoolAdapter::closeHttpConnection;

    private static final String HTTP_CONNECTION = "jdk.internal.net.http.HttpConnection";

    private static volatile MethodHandle channel;
    private static volatile MethodHandle close;
    private static volatile VarHandle multi;

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
        return governor.idle(channel(pooled), pooled, CLOSE_HTTP_CONNECTION);
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

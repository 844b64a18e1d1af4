package io.connguard.agent.instrument.http.jdk;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.net.Socket;
import java.nio.channels.SocketChannel;

import javax.net.ssl.SSLSocket;

/**
 * Finds the socket or channel behind a JDK pool's connection object. The pools hold them in
 * non-exported packages ({@code sun.net} and {@code sun.security.ssl} of {@code java.base},
 * {@code jdk.internal.net.http} of {@code java.net.http}); the agent opens those packages to itself at start-up
 * ({@link io.connguard.agent.ConnGuardAgent}), and the handles are looked up on first use, never
 * in premain.
 */
public final class JdkPoolConnections {

    private static volatile VarHandle serverSocket;
    private static volatile VarHandle sslSelf;
    private static volatile MethodHandle channel;
    private static volatile MethodHandle close;
    private static volatile VarHandle multi;

    private JdkPoolConnections() {
    }

    /** {@code sun.net.NetworkClient.serverSocket} of a {@code sun.net.www.http.HttpClient}. */
    public static Socket urlConnectionSocket(Object httpClient) throws ReflectiveOperationException {
        VarHandle h = serverSocket;
        if (h == null) {
            Class<?> networkClient = superclassNamed(httpClient.getClass(), "sun.net.NetworkClient");
            h = MethodHandles.privateLookupIn(networkClient, MethodHandles.lookup())
                    .findVarHandle(networkClient, "serverSocket", Socket.class);
            serverSocket = h;
        }
        return (Socket) h.get(httpClient);
    }

    /**
     * The socket ConnGuard counted for {@code socket}: itself, or for a TLS socket layered over a
     * plain one ({@code HttpsURLConnection} connects a plain socket, then wraps it), the plain one,
     * which {@code sun.security.ssl.BaseSSLSocketImpl.self} holds (JDK 17 and 25).
     */
    public static Socket countedSocket(Socket socket) throws ReflectiveOperationException {
        if (!(socket instanceof SSLSocket)) {
            return socket;
        }
        VarHandle h = sslSelf;
        if (h == null) {
            Class<?> base = superclassNamed(socket.getClass(), "sun.security.ssl.BaseSSLSocketImpl");
            h = MethodHandles.privateLookupIn(base, MethodHandles.lookup()).findVarHandle(base, "self", Socket.class);
            sslSelf = h;
        }
        Socket self = (Socket) h.get(socket);
        return self == null ? socket : self;
    }

    /** {@code jdk.internal.net.http.HttpConnection.channel()} of a pooled HTTP/1.1 connection. */
    public static SocketChannel httpClientChannel(Object httpConnection) throws Throwable {
        MethodHandle h = channel;
        if (h == null) {
            Class<?> type = superclassNamed(httpConnection.getClass(), "jdk.internal.net.http.HttpConnection");
            h = MethodHandles.privateLookupIn(type, MethodHandles.lookup())
                    .findVirtual(type, "channel", MethodType.methodType(SocketChannel.class))
                    .asType(MethodType.methodType(SocketChannel.class, Object.class));
            channel = h;
        }
        return (SocketChannel) h.invokeExact(httpConnection);
    }

    /** {@code jdk.internal.net.http.HttpConnection.close()}: how the client itself closes a connection. */
    public static void closeHttpConnection(Object httpConnection) throws Throwable {
        MethodHandle h = close;
        if (h == null) {
            Class<?> type = superclassNamed(httpConnection.getClass(), "jdk.internal.net.http.HttpConnection");
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
    public static Object multiExchange(Object exchange) throws ReflectiveOperationException {
        VarHandle h = multi;
        if (h == null) {
            Class<?> type = superclassNamed(exchange.getClass(), "jdk.internal.net.http.Exchange");
            Class<?> multiType = Class.forName("jdk.internal.net.http.MultiExchange", false, type.getClassLoader());
            h = MethodHandles.privateLookupIn(type, MethodHandles.lookup()).findVarHandle(type, "multi", multiType);
            multi = h;
        }
        return h.get(exchange);
    }

    private static Class<?> superclassNamed(Class<?> type, String name) throws ClassNotFoundException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (c.getName().equals(name)) {
                return c;
            }
        }
        throw new ClassNotFoundException(name + " is not a superclass of " + type.getName());
    }
}

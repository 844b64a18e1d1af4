package io.connguard.agent.instrument.socket;

import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.net.SocketOptions;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Closes a socket so that the server has seen the close before its slot is handed on.
 *
 * <p>A server that counts open connections learns of a close when it reads the FIN, which can be
 * after it accepted the connection the freed slot went to: it then counts one over the cap and
 * refuses. So, for a socket whose slot someone waits for, the close first shuts the output (the
 * FIN) and reads until the server's own close (end of stream), discarding what arrives; only
 * then does the real close run and the slot move. A server that already closed its side answers
 * at once; a keep-alive server answers within a round trip. Bounded by {@link #BOUND_MILLIS} and
 * {@link #MAX_DRAINED} bytes; then the close goes ahead as usual.
 *
 * <p>{@code Socket.close} decides ({@link #expect}); the {@code NioSocketImpl.close} it calls on the
 * same thread does it ({@link #beforeClose}), on the JDK's own implementation (JDK 17 and 25) and
 * its raw stream (beneath TLS), and only while holding its read lock: if another thread is reading (a close
 * meant to interrupt a blocked read), nothing is done, so no close ever waits for a reader. A
 * socket with {@code SO_LINGER} 0 asked for a reset and gets it. Needs {@code sun.nio.ch} opened
 * to the agent (done at start-up); without it, nothing is done.
 */
public final class GracefulClose {

    /** The longest a close waits for the server; a loopback server needs well under 1 ms. */
    static final long BOUND_MILLIS = 100;
    static final int MAX_DRAINED = 64 * 1024;

    private static final String NIO_SOCKET_IMPL = "sun.nio.ch.NioSocketImpl";

    /** Resolved on first use: {readLock, shutdownOutput, getInputStream}, or an empty array if hidden. */
    private static volatile Object[] handles;

    /** Set by {@link #expect} for the {@code NioSocketImpl.close} that the socket's close calls next. */
    private static final ThreadLocal<Boolean> EXPECTED = new ThreadLocal<>();

    private GracefulClose() {
    }

    /** The socket this thread is closing is awaited: close its implementation gracefully. */
    public static void expect() {
        EXPECTED.set(Boolean.TRUE);
    }

    /** The socket's close returned (also when it never reached its implementation). */
    public static void done() {
        if (EXPECTED.get() != null) {
            EXPECTED.remove();
        }
    }

    /** Before {@code impl} closes; never throws, returns within the bound. */
    public static void beforeClose(Object impl) {
        if (EXPECTED.get() == null) {
            return;
        }
        EXPECTED.remove();
        if (impl == null || !impl.getClass().getName().equals(NIO_SOCKET_IMPL)) {
            return;
        }
        Object[] h = handles(impl.getClass());
        if (h.length == 0) {
            return;
        }
        try {
            ReentrantLock lock = (ReentrantLock) ((VarHandle) h[0]).get(impl);
            if (!lock.tryLock()) {
                return;
            }
            try {
                drain(impl, (MethodHandle) h[1], (MethodHandle) h[2]);
            } finally {
                lock.unlock();
            }
        } catch (Throwable ignored) {
            // the close goes ahead as it would have without the agent
        }
    }

    private static void drain(Object impl, MethodHandle shutdownOutput, MethodHandle inputStream) throws Throwable {
        SocketOptions options = (SocketOptions) impl;
        if (Integer.valueOf(0).equals(options.getOption(SocketOptions.SO_LINGER))) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BOUND_MILLIS);
        shutdownOutput.invoke(impl);
        InputStream in = (InputStream) inputStream.invoke(impl);
        byte[] buffer = new byte[4096];
        int drained = 0;
        while (drained < MAX_DRAINED) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return;
            }
            options.setOption(SocketOptions.SO_TIMEOUT, (int) left);
            int n = in.read(buffer); // a timeout throws: the close goes ahead
            if (n < 0) {
                return;
            }
            drained += n;
        }
    }

    private static Object[] handles(Class<?> type) {
        Object[] h = handles;
        if (h == null) {
            try {
                MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(type, MethodHandles.lookup());
                h = new Object[] {
                        lookup.findVarHandle(type, "readLock", ReentrantLock.class),
                        lookup.findVirtual(type, "shutdownOutput", MethodType.methodType(void.class)),
                        lookup.findVirtual(type, "getInputStream", MethodType.methodType(InputStream.class))};
            } catch (Throwable t) {
                h = new Object[0];
            }
            handles = h;
        }
        return h;
    }
}

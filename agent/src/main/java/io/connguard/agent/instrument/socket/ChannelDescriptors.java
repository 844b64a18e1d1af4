package io.connguard.agent.instrument.socket;

import java.io.Closeable;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The file descriptor of a {@code sun.nio.ch.SocketChannelImpl} ({@code fd}, JDK 17 and 25), and
 * how to close it once the channel is garbage. Unlike a {@code Socket} ({@code NioSocketImpl}
 * registers a cleaner), a channel dropped without {@code close()} keeps its descriptor open until
 * the process exits; the agent closes it through a {@link FileInputStream} over the same
 * descriptor, the one public way to close a bare {@link FileDescriptor}. Needs {@code sun.nio.ch}
 * opened to the agent (done at start-up).
 */
public final class ChannelDescriptors {

    private static volatile VarHandle fd;

    private ChannelDescriptors() {
    }

    /** What to close if {@code channel} becomes garbage unclosed; null if it has no descriptor. */
    public static Closeable residue(Object channel) throws ReflectiveOperationException {
        VarHandle h = fd;
        if (h == null) {
            Class<?> type = channel.getClass();
            while (type != null && !type.getName().equals("sun.nio.ch.SocketChannelImpl")) {
                type = type.getSuperclass();
            }
            if (type == null) {
                return null;
            }
            h = MethodHandles.privateLookupIn(type, MethodHandles.lookup()).findVarHandle(type, "fd", FileDescriptor.class);
            fd = h;
        }
        FileDescriptor descriptor = (FileDescriptor) h.get(channel);
        return descriptor == null ? null : () -> closeDescriptor(descriptor);
    }

    private static void closeDescriptor(FileDescriptor descriptor) throws java.io.IOException {
        if (descriptor.valid()) {
            new FileInputStream(descriptor).close();
        }
    }
}

package io.connguard.testapps.client;

import java.io.ByteArrayOutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * {@code channel-blocking} and {@code channel-nonblocking}: a {@link SocketChannel} per request,
 * {@code Connection: close}, read to end-of-stream, close.
 */
final class ChannelRequesters {

    private ChannelRequesters() {
    }

    /** Blocking {@code SocketChannel.connect}, blocking reads and writes. */
    static Requester blocking(Target target) {
        return () -> {
            try (SocketChannel channel = SocketChannel.open()) {
                channel.connect(target.address());
                ByteBuffer request = ByteBuffer.wrap(target.closingGetRequest());
                while (request.hasRemaining()) {
                    channel.write(request);
                }
                ByteArrayOutputStream response = new ByteArrayOutputStream(4096);
                ByteBuffer buffer = ByteBuffer.allocate(8192);
                while (channel.read(buffer) >= 0) {
                    response.write(buffer.array(), 0, buffer.position());
                    buffer.clear();
                }
                return RawHttp.judge(response.toByteArray(), response.size());
            }
        };
    }

    /**
     * {@code configureBlocking(false)}, {@code connect}, wait for {@code OP_CONNECT} on a
     * {@link Selector}, {@code finishConnect}, then write and read through the same selector.
     * Every wait is bounded by {@code timeoutMs} (0 = unbounded).
     */
    static Requester nonBlocking(Target target, int timeoutMs) {
        return () -> {
            try (SocketChannel channel = SocketChannel.open(); Selector selector = Selector.open()) {
                channel.configureBlocking(false);
                SelectionKey key = channel.register(selector, 0);
                if (!channel.connect(target.address())) {
                    key.interestOps(SelectionKey.OP_CONNECT);
                    while (!channel.finishConnect()) {
                        await(selector, timeoutMs, "connect");
                    }
                }
                ByteBuffer request = ByteBuffer.wrap(target.closingGetRequest());
                channel.write(request);
                key.interestOps(SelectionKey.OP_WRITE);
                while (request.hasRemaining()) {
                    await(selector, timeoutMs, "write");
                    channel.write(request);
                }
                key.interestOps(SelectionKey.OP_READ);
                ByteArrayOutputStream response = new ByteArrayOutputStream(4096);
                ByteBuffer buffer = ByteBuffer.allocate(8192);
                while (true) {
                    int n = channel.read(buffer);
                    if (n < 0) {
                        break;
                    }
                    if (n == 0) {
                        await(selector, timeoutMs, "read");
                        continue;
                    }
                    response.write(buffer.array(), 0, buffer.position());
                    buffer.clear();
                }
                return RawHttp.judge(response.toByteArray(), response.size());
            }
        };
    }

    private static void await(Selector selector, int timeoutMs, String what) throws Exception {
        int ready = selector.select(timeoutMs);
        selector.selectedKeys().clear();
        if (ready == 0 && timeoutMs > 0) {
            throw new SocketTimeoutException(what + " timed out after " + timeoutMs + " ms");
        }
    }
}

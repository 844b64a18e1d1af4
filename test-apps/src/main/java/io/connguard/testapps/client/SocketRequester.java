package io.connguard.testapps.client;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;

import javax.net.ssl.SSLSocketFactory;

/**
 * {@code socket}: a fresh {@link Socket} per request, {@code Connection: close}, read to EOF, close.
 * For an https URL the socket is an unconnected {@code SSLSocket} from the default factory, whose
 * {@code connect} goes through {@code SSLSocketImpl.connect}.
 */
final class SocketRequester implements Requester {

    private final Target target;
    private final int connectTimeoutMs;
    private final int requestTimeoutMs;

    SocketRequester(Target target, int connectTimeoutMs, int requestTimeoutMs) {
        this.target = target;
        this.connectTimeoutMs = connectTimeoutMs;
        this.requestTimeoutMs = requestTimeoutMs;
    }

    @Override
    public String get() throws Exception {
        try (Socket socket = target.tls() ? SSLSocketFactory.getDefault().createSocket() : new Socket()) {
            socket.connect(target.address(), connectTimeoutMs);
            socket.setSoTimeout(requestTimeoutMs);
            socket.getOutputStream().write(target.closingGetRequest());
            socket.getOutputStream().flush();
            ByteArrayOutputStream response = new ByteArrayOutputStream(4096);
            InputStream in = socket.getInputStream();
            in.transferTo(response);
            return RawHttp.judge(response.toByteArray(), response.size());
        }
    }
}

package io.connguard.testapps.server;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;

/**
 * Counts the TCP connections of the main connector (a Jetty {@link Connection.Listener}) and the
 * outcome of the requests served on it.
 *
 * <p>What a request is judged against ({@link #counted}): a connection counts from its accept
 * until the server has read the client's close (its end of stream) or ends it itself: a request
 * that asked for {@code Connection: close} ends its connection for the server when the server
 * starts its answer ({@link #retire}), as a server that closes after such an answer (Tomcat,
 * Harbor's front) stops counting it then, whenever the client's FIN arrives. A keep-alive
 * connection, idle or not, counts until the server has read its close.
 *
 * <p>Two peaks are kept:
 * <ul>
 *   <li>{@code rawpeak}: the highest number of connections the server ever had open at once,
 *       straight from the open/close events;</li>
 *   <li>{@code peak}: the highest count a request was actually judged against (see
 *       {@link HarborHandler}). This is the number tests compare with the cap.</li>
 * </ul>
 */
final class ConnectionStats implements Connection.Listener {

    /** Network connections the server answered the last request of ({@link #retire}). */
    private final Set<Connection> retired = ConcurrentHashMap.newKeySet();
    private volatile Supplier<Collection<EndPoint>> endPoints = List::of;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final AtomicInteger rawPeak = new AtomicInteger();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    @Override
    public void onOpened(Connection connection) {
        if (!isNetwork(connection)) {
            return;
        }
        connections.incrementAndGet();
        rawPeak.accumulateAndGet(open.incrementAndGet(), Math::max);
    }

    @Override
    public void onClosed(Connection connection) {
        if (isNetwork(connection)) {
            retired.remove(connection);
            open.decrementAndGet();
        }
    }

    /**
     * The server is answering the last request of {@code connection} (HTTP or, over TLS, the
     * HTTP connection on the decrypted end point) and will close it: it no longer counts.
     */
    void retire(Connection connection) {
        Connection network = connection.getEndPoint() instanceof SslConnection.SslEndPoint ssl
                ? ssl.getSslConnection() : connection;
        retired.add(network);
    }

    /** Where {@link #counted} finds the connector's connections. */
    void countFrom(Supplier<Collection<EndPoint>> connected) {
        endPoints = connected;
    }

    /**
     * The connections the server counts against its cap right now: open, not read to their end
     * (the server has not seen the client's close), and not retired.
     */
    int counted() {
        int n = 0;
        for (EndPoint endPoint : endPoints.get()) {
            if (endPoint.isOpen() && !endPoint.isInputShutdown() && !retired.contains(endPoint.getConnection())) {
                n++;
            }
        }
        return n;
    }

    /**
     * Over TLS Jetty opens two connections per TCP connection: the TLS one on the socket and the
     * HTTP one on its decrypted end point. Only the first is a TCP connection.
     */
    private static boolean isNetwork(Connection connection) {
        return !(connection.getEndPoint() instanceof SslConnection.SslEndPoint);
    }

    int open() {
        return open.get();
    }

    /** Records the open count that a request was admitted or refused at. */
    void judgedAt(int openConnections) {
        peak.accumulateAndGet(openConnections, Math::max);
    }

    void served() {
        served.incrementAndGet();
    }

    void refused() {
        refused.incrementAndGet();
    }

    /** Zeroes the counters and peaks; {@code open} stays the true current count. */
    void reset() {
        connections.set(0);
        served.set(0);
        refused.set(0);
        peak.set(0);
        rawPeak.set(open.get());
    }

    String line() {
        return "open=" + open.get()
                + " peak=" + peak.get()
                + " connections=" + connections.get()
                + " served=" + served.get()
                + " refused=" + refused.get()
                + " rawpeak=" + rawPeak.get();
    }
}

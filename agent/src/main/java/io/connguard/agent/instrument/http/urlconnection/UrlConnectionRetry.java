package io.connguard.agent.instrument.http.urlconnection;

import io.connguard.agent.core.RetryCall;
import io.connguard.agent.instrument.http.LibraryObjects;
import io.connguard.agent.retry.Retries;
import io.connguard.agent.retry.RetryGlue;
import io.connguard.bootstrap.ConnGuardHooks;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.HttpURLConnection;
import java.net.URL;

/**
 * Retries of refused responses for {@code HttpURLConnection}, around
 * {@code sun.net.www.protocol.http.HttpURLConnection.getInputStream0()}, where the JDK sends the
 * request and reads the response (for {@code getInputStream}, {@code getResponseCode} and every
 * header getter). A refused response makes that method throw; the refused body is read to its
 * end and closed (which puts the connection back in the keep-alive cache), the advice resets the
 * connection object's response state as the JDK does for a redirect, and the method runs again:
 * it connects (from the cache), writes the same request and reads the new response.
 *
 * <p>Refused connects are retried in {@code sun.net.NetworkClient.doConnect}.
 */
final class UrlConnectionRetry extends RetryGlue implements RetryGlue.Step {

    private final Retries retries;

    UrlConnectionRetry(Retries retries) {
        this.retries = retries;
    }

    @Override
    public Object start(Object connection, Object unused) {
        if (!retries.enabled() || !(connection instanceof HttpURLConnection)) {
            return null;
        }
        HttpURLConnection c = (HttpURLConnection) connection;
        URL url = c.getURL();
        // A request with a body (doOutput) is never resent: its body may have been streamed.
        RetryCall call = retries.start(ConnGuardHooks.CLIENT_URLCONNECTION, url.getHost(), Retries.port(url.getPort(),
                url.getProtocol()), c.getRequestMethod(), !c.getDoOutput(), 0, true);
        if (call != null) {
            call.attachment = this;
        }
        return call;
    }

    /** {@code NetworkClient.doConnect(server, port)}, its connect timeout in milliseconds. */
    @Override
    public Object connectStart(Object server, int port, Object connectTimeout) {
        long timeout = connectTimeout instanceof Number ? ((Number) connectTimeout).longValue() : 0;
        return server instanceof String
                ? retries.connectStart(ConnGuardHooks.CLIENT_URLCONNECTION, (String) server, port, timeout)
                : null;
    }

    @Override
    public boolean received(RetryCall call, Object connection, int status, Object responses, Object input,
                            Object error, boolean credentials, Throwable thrown) throws IOException {
        int code = status >= 0 ? status : statusLine(responses);
        // An error status throws an IOException; a 401 whose WWW-Authenticate is blank makes the
        // JDK's header parser throw an IllegalArgumentException instead (after closing the
        // connection), which is exactly the registry refusal that has "no usable challenge".
        boolean failed = thrown instanceof IOException || (thrown instanceof RuntimeException && code == 401);
        if (!failed || !retries.mayBeRefusal(call, code) || redirected(call, connection)) {
            call.end();
            return false;
        }
        status = code;
        String challenge = LibraryObjects.string(responses, "findValue", "WWW-Authenticate");
        // A 401 body is left alone: the JDK keeps it for getErrorStream() and it cannot be peeked.
        if (!retries.isRefusal(call, status, credentials, challenge, null)) {
            call.end();
            return false;
        }
        long wait = call.refused(status, LibraryObjects.string(responses, "findValue", "Retry-After"));
        if (wait < 0) {
            call.end();
            return false;
        }
        if (error instanceof InputStream) {
            LibraryObjects.drain((InputStream) error);
        } else if (input instanceof InputStream) {
            LibraryObjects.drain((InputStream) input);
        }
        LibraryObjects.call(responses, "reset");
        setCookieHeader(connection);
        RetryCall.pause(wait);
        return true;
    }

    /** The status of {@code HTTP/1.1 401 Unauthorized}, the first entry of the response headers; -1 if none. */
    private static int statusLine(Object responses) throws IOException {
        String line = LibraryObjects.string(responses, "getValue", 0);
        if (line == null || !line.startsWith("HTTP/")) {
            return -1;
        }
        int space = line.indexOf(' ');
        if (space < 0 || line.length() < space + 4) {
            return -1;
        }
        try {
            return Integer.parseInt(line.substring(space + 1, space + 4));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Whether the refusal came from a redirect's target rather than the host the request is counted for. */
    private static boolean redirected(RetryCall call, Object connection) {
        if (!(connection instanceof HttpURLConnection)) {
            return true;
        }
        URL url = ((HttpURLConnection) connection).getURL();
        return !call.host().key().host().equalsIgnoreCase(url.getHost())
                || call.host().key().port() != Retries.port(url.getPort(), url.getProtocol());
    }

    private static final ClassValue<Method> SET_COOKIE_HEADER = new ClassValue<>() {
        @Override
        protected Method computeValue(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                try {
                    Method m = c.getDeclaredMethod("setCookieHeader");
                    return m.trySetAccessible() ? m : null;
                } catch (NoSuchMethodException e) {
                    // look further up
                }
            }
            return null;
        }
    };

    /** As the JDK's redirect path does: cookies the refusal set go with the next attempt. */
    private static void setCookieHeader(Object connection) {
        Method m = SET_COOKIE_HEADER.get(connection.getClass());
        if (m != null) {
            try {
                m.invoke(connection);
            } catch (ReflectiveOperationException e) {
                // no cookie handler, or it failed: the attempt goes without new cookies
            }
        }
    }
}

package io.connguard.testapps.server;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** {@code GET /stats} prints the counters on one line; {@code POST /reset} zeroes them. */
final class AdminHandler extends Handler.Abstract {

    private final ConnectionStats stats;

    AdminHandler(ConnectionStats stats) {
        this.stats = stats;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        if ("/stats".equals(path) && "GET".equals(method)) {
            return text(response, callback, stats.line());
        }
        if ("/reset".equals(path) && "POST".equals(method)) {
            stats.reset();
            return text(response, callback, "reset " + stats.line());
        }
        Response.writeError(request, response, callback, 404, "admin: GET /stats or POST /reset");
        return true;
    }

    private static boolean text(Response response, Callback callback, String line) {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
        Content.Sink.write(response, true, line + "\n", callback);
        return true;
    }
}

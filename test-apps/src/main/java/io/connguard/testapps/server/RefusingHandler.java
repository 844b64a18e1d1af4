package io.connguard.testapps.server;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * A registry that refuses a given number of times, for the retry tests. On the main connector:
 *
 * <pre>
 * ANY /refuse/&lt;id&gt;?fail=N&amp;status=503&amp;retryAfter=S&amp;challenge=none&amp;body=busy
 * </pre>
 *
 * The first {@code fail} requests for {@code <id>} (default 0) are refused, every later one gets
 * {@code 200} with the body {@code ok <id>\n}. Any method; a request body is read and discarded.
 * A refusal has:
 * <ul>
 *   <li>status {@code status} (default 503; any 400-599, e.g. 429 or 401);</li>
 *   <li>{@code Retry-After: S} for {@code retryAfter=S} (whole seconds), or an HTTP date S seconds
 *       from now for {@code retryAfter=date:S}; none by default;</li>
 *   <li>{@code WWW-Authenticate} for {@code challenge=bearer} (a Harbor-style Bearer challenge with
 *       realm, service and scope), {@code basic} ({@code Basic realm="harbor"}), {@code empty} (the
 *       header with an empty value); none for {@code none}, the default;</li>
 *   <li>a JSON body: {@code body=db} is Harbor's database refusal ({@link HarborHandler#REFUSAL_BODY},
 *       "failed to acquire database connection: too many clients already"), {@code plain} an
 *       ordinary {@code UNAUTHORIZED} "authentication required" error, {@code busy} (the default) a
 *       {@code UNAVAILABLE} "registry busy" error; see {@link #refusalBody};</li>
 *   <li>{@code X-Refusal: n}, the refusal's number for this id (1, 2, ...), so that a client can
 *       tell which of several refusals it was given.</li>
 * </ul>
 *
 * <p>Per id it records how many requests came, their methods, how many carried an
 * {@code Authorization} header, and when each came. {@code GET /refuse-stats/<id>} (on the main and
 * the admin connector) prints one line:
 * {@code id=<id> count=3 auth=3 methods=GET,GET,GET atMs=0,21,75} (milliseconds since the id's
 * first request); an id never requested reads {@code count=0}.
 */
public final class RefusingHandler extends Handler.Abstract {

    static final String REFUSE_PREFIX = "/refuse/";
    static final String STATS_PREFIX = "/refuse-stats/";

    /** Harbor's body when its database pool is full (the same text as {@link HarborHandler}'s refusals). */
    public static final String DB_BODY = HarborHandler.REFUSAL_BODY;
    public static final String PLAIN_BODY = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}";
    public static final String BUSY_BODY = "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"registry busy, try again later\"}]}";

    /** {@code challenge=bearer}: the challenge a Harbor or distribution registry sends an anonymous pull. */
    public static final String BEARER_CHALLENGE = "Bearer realm=\"http://127.0.0.1/service/token\",service=\"harbor-registry\","
            + "scope=\"repository:library/app:pull\"";
    public static final String BASIC_CHALLENGE = "Basic realm=\"harbor\"";

    private static final int MAX_RECORDED = 10_000;

    private final ConcurrentMap<String, IdStats> ids = new ConcurrentHashMap<>();

    /** The refusal body for {@code body=<kind>}: db, plain, anything else busy. */
    public static String refusalBody(String kind) {
        return switch (kind == null ? "busy" : kind) {
            case "db" -> DB_BODY;
            case "plain" -> PLAIN_BODY;
            default -> BUSY_BODY;
        };
    }

    static boolean handles(String path) {
        return path.startsWith(REFUSE_PREFIX) || path.startsWith(STATS_PREFIX);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        if (path.startsWith(STATS_PREFIX)) {
            String id = path.substring(STATS_PREFIX.length());
            IdStats stats = ids.get(id);
            String line = stats == null ? "id=" + id + " count=0 auth=0 methods= atMs=" : stats.line(id);
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
            Content.Sink.write(response, true, line + "\n", callback);
            return true;
        }
        if (!path.startsWith(REFUSE_PREFIX) || path.length() == REFUSE_PREFIX.length()) {
            Response.writeError(request, response, callback, 404, "use /refuse/<id>?fail=N or /refuse-stats/<id>");
            return true;
        }
        String id = path.substring(REFUSE_PREFIX.length());
        String method = request.getMethod();
        boolean auth = request.getHeaders().get(HttpHeader.AUTHORIZATION) != null;
        int n = ids.computeIfAbsent(id, k -> new IdStats()).record(method, auth);
        String query = request.getHttpURI().getQuery();
        // Read and discard the request body first, then answer.
        Content.Source.consumeAll(request, Callback.from(
                () -> answer(request, response, callback, id, n, query),
                callback::failed));
        return true;
    }

    private void answer(Request request, Response response, Callback callback, String id, int n, String query) {
        try {
            int fail = (int) parameter(query, "fail", 0, 0, Integer.MAX_VALUE);
            if (n > fail) {
                byte[] ok = okBody(id).getBytes(StandardCharsets.UTF_8);
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, ok.length);
                response.write(true, java.nio.ByteBuffer.wrap(ok), callback);
                return;
            }
            int status = (int) parameter(query, "status", 503, 400, 599);
            String retryAfter = string(query, "retryAfter");
            String challenge = string(query, "challenge");
            byte[] body = refusalBody(string(query, "body")).getBytes(StandardCharsets.UTF_8);
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
            response.getHeaders().put("X-Refusal", String.valueOf(n));
            if (retryAfter != null && !retryAfter.isEmpty()) {
                response.getHeaders().put(HttpHeader.RETRY_AFTER, retryAfterValue(retryAfter));
            }
            if (challenge != null) {
                switch (challenge) {
                    case "bearer" -> response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, BEARER_CHALLENGE);
                    case "basic" -> response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, BASIC_CHALLENGE);
                    case "empty" -> response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "");
                    default -> {
                        // none: no challenge at all
                    }
                }
            }
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            response.write(true, java.nio.ByteBuffer.wrap(body), callback);
        } catch (Throwable t) {
            callback.failed(t);
        }
    }

    /** The body of the {@code 200} that ends the refusals for {@code id}. */
    public static String okBody(String id) {
        return "ok " + id + "\n";
    }

    /** {@code 5} stays {@code 5}; {@code date:5} becomes the HTTP date (RFC 1123, GMT) five seconds from now. */
    static String retryAfterValue(String spec) {
        if (spec.startsWith("date:")) {
            long seconds = Long.parseLong(spec.substring("date:".length()));
            return DateTimeFormatter.RFC_1123_DATE_TIME.withLocale(Locale.ROOT)
                    .format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(seconds));
        }
        return spec;
    }

    private static String string(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static long parameter(String query, String name, long fallback, long min, long max) {
        String value = string(query, name);
        if (value == null) {
            return fallback;
        }
        try {
            long parsed = Long.parseLong(value.trim());
            return parsed >= min && parsed <= max ? parsed : fallback;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** What one id has seen. */
    private static final class IdStats {
        private final long firstNanos = System.nanoTime();
        private int count;
        private int auth;
        private final List<String> methods = new ArrayList<>();
        private final List<Long> atMs = new ArrayList<>();

        synchronized int record(String method, boolean withAuth) {
            count++;
            if (withAuth) {
                auth++;
            }
            if (methods.size() < MAX_RECORDED) {
                methods.add(method);
                atMs.add((System.nanoTime() - firstNanos) / 1_000_000);
            }
            return count;
        }

        synchronized String line(String id) {
            StringBuilder sb = new StringBuilder("id=").append(id).append(" count=").append(count)
                    .append(" auth=").append(auth).append(" methods=").append(String.join(",", methods)).append(" atMs=");
            for (int i = 0; i < atMs.size(); i++) {
                sb.append(i == 0 ? "" : ",").append(atMs.get(i));
            }
            return sb.toString();
        }
    }
}

package io.connguard.testapps.client;

import java.util.Map;
import java.util.Set;

import io.connguard.testapps.clients.ClientDriver;
import io.connguard.testapps.common.Args;

/**
 * A storm of GETs from many threads, with raw sockets or a client's driver
 * ({@link io.connguard.testapps.clients.ClientDriver}, {@link ClientDriver.Setup#LOAD}): one
 * {@code java.net.http.HttpClient} shared by every thread, or a client (and its own connection
 * pool) per thread: HttpURLConnection (whose keep-alive cache is the JVM's), HttpClient, Apache
 * HttpClient 4 or 5, OkHttp, or the Apache HttpClient 4 relocated inside Maven's wagon-http.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.LoadClient \
 *      --kind socket|urlconnection|httpclient-shared|httpclient-per-thread
 *             |apache4-per-thread|apache5-per-thread|okhttp-per-thread|wagon-per-thread \
 *      --url http://127.0.0.1:PORT/v2/x [--threads 64] [--requests 5] \
 *      [--connect-timeout-ms 30000] [--request-timeout-ms 30000] [--deadline-ms 300000] [--jmx]
 * </pre>
 * Prints {@code FAIL <count> <reason>} lines, then {@code RESULT kind=.. ok=.. failed=.. elapsedMs=..},
 * then with {@code --jmx} the ConnGuard MBeans (see {@link JmxDump}). Exit code 0 whatever the
 * outcome; 2 for a bad command line.
 */
public final class LoadClient {

    static final String USAGE = "LoadClient --kind socket|urlconnection|httpclient-shared|httpclient-per-thread"
            + "|apache4-per-thread|apache5-per-thread|okhttp-per-thread|wagon-per-thread"
            + "|apache4-shared|apache5-shared|wagon-shared"
            + " --url http://127.0.0.1:PORT/path [--threads 64] [--requests 5] [--connect-timeout-ms 30000]"
            + " [--request-timeout-ms 30000] [--deadline-ms 300000] [--jmx] [--virtual-threads]";

    /** The kinds with a client (and its pool) per thread, and the driver of each. */
    private static final Map<String, String> PER_THREAD = Map.of(
            "urlconnection", "url",
            "httpclient-per-thread", "jdk",
            "apache4-per-thread", "apache4",
            "apache5-per-thread", "apache5",
            "okhttp-per-thread", "okhttp",
            "wagon-per-thread", "wagon");

    /** The kinds with one client (and its pool, sized for every thread) shared by all threads, and the driver of each. */
    private static final Map<String, String> SHARED = Map.of(
            "apache4-shared", "apache4",
            "apache5-shared", "apache5",
            "wagon-shared", "wagon");

    private LoadClient() {
    }

    public static void main(String[] argv) throws Exception {
        String kind;
        Target target;
        int threads;
        int requests;
        int connectTimeoutMs;
        int requestTimeoutMs;
        int deadlineMs;
        boolean jmx;
        boolean virtual;
        Requester.Factory factory;
        try {
            Args args = Args.parse(argv,
                    Set.of("kind", "url", "threads", "requests", "connect-timeout-ms", "request-timeout-ms", "deadline-ms"),
                    Set.of("jmx", "virtual-threads"));
            kind = args.required("kind");
            target = Target.parse(args.required("url"));
            threads = args.integer("threads", 64, 1, 4096);
            requests = args.integer("requests", 5, 1, 1_000_000);
            connectTimeoutMs = args.integer("connect-timeout-ms", 30_000, 0, Integer.MAX_VALUE);
            requestTimeoutMs = args.integer("request-timeout-ms", 30_000, 0, Integer.MAX_VALUE);
            deadlineMs = args.integer("deadline-ms", 300_000, 1, Integer.MAX_VALUE);
            jmx = args.flag("jmx");
            virtual = args.flag("virtual-threads");
            factory = factory(kind, target, connectTimeoutMs, requestTimeoutMs, threads);
        } catch (Args.UsageException e) {
            Args.exitWithUsage("LoadClient", USAGE, e);
            return;
        }
        try (Requester.Factory f = factory) {
            new LoadRun(kind, threads, requests, deadlineMs, virtual).run(f, System.out);
        }
        if (jmx) {
            JmxDump.print(System.out, 5_000);
        }
        System.out.flush();
        System.exit(0);
    }

    /**
     * The requesters of {@code kind}: {@code socket} is this package's own; every other kind is a
     * client's driver, one per thread ({@code -per-thread}, and {@code urlconnection}, whose
     * keep-alive cache is the JVM's anyway) or one shared by every thread ({@code httpclient-shared};
     * {@code apache4-shared}, {@code apache5-shared} and {@code wagon-shared}, whose pool allows one
     * connection per thread to the route, 64 unless {@code threads} says).
     */
    static Requester.Factory factory(String kind, Target target, int connectTimeoutMs, int requestTimeoutMs) {
        return factory(kind, target, connectTimeoutMs, requestTimeoutMs, 64);
    }

    /** As above, a shared pool sized for {@code threads}. */
    static Requester.Factory factory(String kind, Target target, int connectTimeoutMs, int requestTimeoutMs,
                                     int threads) {
        ClientDriver.Options options = ClientDriver.Options.load(connectTimeoutMs, requestTimeoutMs);
        switch (kind) {
            case "socket":
                return () -> new SocketRequester(target, connectTimeoutMs, requestTimeoutMs);
            case "httpclient-shared", "apache4-shared", "apache5-shared", "wagon-shared":
                ClientDriver shared = kind.equals("httpclient-shared") ? ClientDriver.create("jdk", options)
                        : ClientDriver.create(SHARED.get(kind),
                                ClientDriver.Options.shared(connectTimeoutMs, requestTimeoutMs, threads));
                return new Requester.Factory() {
                    @Override
                    public Requester newRequester() {
                        return () -> shared.get(target.uri());
                    }

                    @Override
                    public void close() {
                        shared.close();
                    }
                };
            default:
                String client = PER_THREAD.get(kind);
                if (client == null) {
                    throw new Args.UsageException("unknown --kind '" + kind + "'");
                }
                return () -> {
                    ClientDriver own = ClientDriver.create(client, options);
                    return new Requester() {
                        @Override
                        public String get() throws Exception {
                            return own.get(target.uri());
                        }

                        @Override
                        public void close() {
                            own.close();
                        }
                    };
                };
        }
    }
}

package io.connguard.testapps.client;

import java.util.Set;

import io.connguard.testapps.common.Args;

/**
 * The storm of {@link LoadClient}, with {@link java.nio.channels.SocketChannel} connects.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.ChannelApp \
 *      --kind channel-blocking|channel-nonblocking --url http://127.0.0.1:PORT/v2/x \
 *      [--threads 64] [--requests 5] [--request-timeout-ms 30000] [--deadline-ms 300000] [--jmx]
 * </pre>
 * Same output as {@link LoadClient}: {@code FAIL} lines, one {@code RESULT} line, {@code JMX} lines.
 */
public final class ChannelApp {

    static final String USAGE = "ChannelApp --kind channel-blocking|channel-nonblocking --url http://127.0.0.1:PORT/path"
            + " [--threads 64] [--requests 5] [--request-timeout-ms 30000] [--deadline-ms 300000] [--jmx]";

    private ChannelApp() {
    }

    public static void main(String[] argv) throws Exception {
        String kind;
        int threads;
        int requests;
        int deadlineMs;
        boolean jmx;
        Requester.Factory factory;
        try {
            Args args = Args.parse(argv,
                    Set.of("kind", "url", "threads", "requests", "request-timeout-ms", "deadline-ms"),
                    Set.of("jmx"));
            kind = args.required("kind");
            Target target = Target.parse(args.required("url"));
            threads = args.integer("threads", 64, 1, 4096);
            requests = args.integer("requests", 5, 1, 1_000_000);
            int timeoutMs = args.integer("request-timeout-ms", 30_000, 0, Integer.MAX_VALUE);
            deadlineMs = args.integer("deadline-ms", 300_000, 1, Integer.MAX_VALUE);
            jmx = args.flag("jmx");
            switch (kind) {
                case "channel-blocking":
                    factory = () -> ChannelRequesters.blocking(target);
                    break;
                case "channel-nonblocking":
                    factory = () -> ChannelRequesters.nonBlocking(target, timeoutMs);
                    break;
                default:
                    throw new Args.UsageException("unknown --kind '" + kind + "'");
            }
        } catch (Args.UsageException e) {
            Args.exitWithUsage("ChannelApp", USAGE, e);
            return;
        }
        new LoadRun(kind, threads, requests, deadlineMs).run(factory, System.out);
        if (jmx) {
            JmxDump.print(System.out, 5_000);
        }
        System.out.flush();
        System.exit(0);
    }
}

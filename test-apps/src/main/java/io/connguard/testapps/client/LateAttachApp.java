package io.connguard.testapps.client;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import io.connguard.testapps.common.Args;

/**
 * A long-running application for the command line tools: it opens {@code --early} sockets at
 * once (before any late attach), then for each round {@code r = 1, 2, ...} waits for the file
 * {@code go-r} in {@code --go-dir} and runs a storm of GETs ({@code --threads} x {@code --requests},
 * client {@code --kind}) against {@code --url}, or against the URL the go file holds if not empty. The file {@code close-early} closes the early sockets.
 * Runs until killed or until the file {@code stop} appears.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.LateAttachApp \
 *      --url http://127.0.0.1:PORT/v2/x --go-dir DIR [--early 1] [--threads 16] [--requests 3] \
 *      [--kind socket|urlconnection|...]   (the client kinds of LoadClient)
 * </pre>
 * Prints {@code EARLY open n}, {@code ROUND r} then the storm's {@code FAIL}/{@code RESULT} lines
 * and {@code ROUND r done}, {@code EARLY closed}.
 */
public final class LateAttachApp {

    static final String USAGE = "LateAttachApp --url http://127.0.0.1:PORT/path --go-dir DIR [--early 1]"
            + " [--threads 16] [--requests 3] [--kind socket]";

    private LateAttachApp() {
    }

    public static void main(String[] argv) throws Exception {
        Target target;
        Path dir;
        int early;
        int threads;
        int requests;
        String kind;
        try {
            Args args = Args.parse(argv, Set.of("url", "go-dir", "early", "threads", "requests", "kind"), Set.of());
            target = Target.parse(args.required("url"));
            dir = Path.of(args.required("go-dir"));
            early = args.integer("early", 1, 0, 100);
            threads = args.integer("threads", 16, 1, 1024);
            requests = args.integer("requests", 3, 1, 1000);
            kind = args.string("kind", "socket");
            LoadClient.factory(kind, target, 30_000, 30_000).close();
        } catch (Args.UsageException e) {
            Args.exitWithUsage("LateAttachApp", USAGE, e);
            return;
        }
        Socket[] held = new Socket[early];
        for (int i = 0; i < early; i++) {
            held[i] = new Socket();
            held[i].connect(target.address(), 10_000);
        }
        System.out.println("EARLY open " + early);
        System.out.flush();
        boolean closed = early == 0;
        int round = 1;
        while (!Files.exists(dir.resolve("stop"))) {
            if (!closed && Files.exists(dir.resolve("close-early"))) {
                for (Socket s : held) {
                    close(s);
                }
                closed = true;
                System.out.println("EARLY closed");
                System.out.flush();
            }
            Path go = dir.resolve("go-" + round);
            if (Files.exists(go)) {
                System.out.println("ROUND " + round);
                String url = Files.readString(go).strip();
                Target to = url.isEmpty() ? target : Target.parse(url);
                try (Requester.Factory factory = LoadClient.factory(kind, to, 30_000, 30_000)) {
                    new LoadRun(kind, threads, requests, 120_000).run(factory, System.out);
                }
                System.out.println("ROUND " + round + " done");
                System.out.flush();
                round++;
            }
            Thread.sleep(20);
        }
        System.exit(0);
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing only
        }
    }
}

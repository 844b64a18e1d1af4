package io.connguard.testapps.client;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.net.Socket;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import io.connguard.testapps.common.Args;

/**
 * An application server in miniature: deploys a "web application" {@code --deployments} times,
 * each in its own class loader (as Tomcat does), runs its request on a thread whose context class
 * loader is the application's, undeploys it, and then checks that every application's class
 * loader can be collected. The application opens a plain socket to {@code --port} and sends one
 * HTTP request, so the agent's lazily started threads are started from an application's thread.
 *
 * <pre>
 * java -cp connguard-test-apps.jar io.connguard.testapps.client.RedeployApp --port PORT [--deployments 5] [--jmx]
 * </pre>
 * Prints {@code DEPLOY <n> <status line>} per deployment, then
 * {@code RESULT deployments=<n> collected=<k>}, the threads still holding a deployment's loader as
 * {@code PINNED <thread>}, and with {@code --jmx} the ConnGuard MBeans.
 */
public final class RedeployApp {

    static final String USAGE = "RedeployApp --port PORT [--deployments 5] [--jmx]";

    private RedeployApp() {
    }

    /** The web application: loaded by each deployment's own class loader. */
    public static final class WebApp {
        private WebApp() {
        }

        public static String serve(int port) throws Exception {
            try (Socket s = new Socket("127.0.0.1", port)) {
                OutputStream out = s.getOutputStream();
                out.write(("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                String all = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                int eol = all.indexOf("\r\n");
                return eol < 0 ? all : all.substring(0, eol);
            }
        }
    }

    public static void main(String[] argv) throws Exception {
        int port;
        int deployments;
        boolean jmx;
        try {
            Args args = Args.parse(argv, Set.of("port", "deployments"), Set.of("jmx"));
            port = args.integer("port", 0, 1, 65535);
            deployments = args.integer("deployments", 5, 1, 100);
            jmx = args.flag("jmx");
        } catch (Args.UsageException e) {
            Args.exitWithUsage("RedeployApp", USAGE, e);
            return;
        }
        URL jar = RedeployApp.class.getProtectionDomain().getCodeSource().getLocation();
        List<WeakReference<ClassLoader>> loaders = new ArrayList<>();
        for (int i = 1; i <= deployments; i++) {
            loaders.add(new WeakReference<>(deploy(jar, i, port)));
        }
        long deadline = System.nanoTime() + 20_000_000_000L;
        int collected = 0;
        while (System.nanoTime() < deadline) {
            System.gc();
            collected = (int) loaders.stream().filter(r -> r.get() == null).count();
            if (collected == deployments) {
                break;
            }
            Thread.sleep(100);
        }
        System.out.println("RESULT deployments=" + deployments + " collected=" + collected);
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            ClassLoader context = t.getContextClassLoader();
            if (context != null && String.valueOf(context.getName()).startsWith("webapp-")) {
                System.out.println("PINNED thread " + t.getName() + " holds " + context.getName());
            }
        }
        if (jmx) {
            JmxDump.print(System.out, 5_000);
        }
        System.out.flush();
        System.exit(0);
    }

    /** One deployment: its loader (returned, to be watched), used on one request thread and closed. */
    private static ClassLoader deploy(URL jar, int n, int port) throws Exception {
        URLClassLoader loader = new URLClassLoader("webapp-" + n, new URL[] {jar}, ClassLoader.getPlatformClassLoader());
        String[] status = new String[1];
        Thread request = new Thread(() -> {
            try {
                Class<?> app = Class.forName(WebApp.class.getName(), true, Thread.currentThread().getContextClassLoader());
                status[0] = (String) app.getMethod("serve", int.class).invoke(null, port);
            } catch (Throwable t) {
                status[0] = "failed: " + t;
            }
        }, "webapp-" + n + "-request");
        request.setContextClassLoader(loader);
        request.start();
        request.join(30_000);
        System.out.println("DEPLOY " + n + " " + status[0]);
        loader.close();
        return loader;
    }
}

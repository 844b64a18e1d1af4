package io.connguard.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.connguard.testapps.common.Processes;

/**
 * A private Redis for fleet-mode tests: Debian's {@code redis-server} started as a child process on
 * a free loopback port, in a temporary directory, with no persistence (no RDB snapshots, no AOF),
 * in the foreground, logging to a file in that directory; stopped by its PID. {@link #restart()}
 * brings it back on the same port (empty: nothing was persisted), as after a Redis outage;
 * {@link #pause()} freezes it (SIGSTOP: connects still succeed, nothing is answered).
 *
 * <p>A missing {@code redis-server} fails the test with the reason: {@code .ci/run} installs it.
 */
final class RedisServer implements AutoCloseable {

    static final String PACKAGE = "redis-server";
    private static final long START_TIMEOUT_MS = 15_000;
    private static final long STOP_GRACE_MS = 5_000;
    private static final int IO_TIMEOUT_MS = 2_000;

    private final Path binary;
    private final Path dir;
    private final int port;
    private String password;
    private Process process;
    private boolean paused;
    private int starts;
    private final Thread shutdownHook = new Thread(this::killNow, "redis-server-cleanup");

    private RedisServer(Path binary, Path dir, int port) {
        this.binary = binary;
        this.dir = dir;
        this.port = port;
    }

    /** The {@code redis-server} on the PATH (or in /usr/bin, /usr/sbin), or null. */
    static Path binary() {
        List<Path> candidates = new ArrayList<>();
        for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!p.isEmpty()) {
                candidates.add(Paths.get(p, "redis-server"));
            }
        }
        candidates.add(Paths.get("/usr/bin/redis-server"));
        candidates.add(Paths.get("/usr/sbin/redis-server"));
        return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** Starts a Redis without a password and waits (bounded) until it answers PING. */
    static RedisServer start() throws Exception {
        Path binary = binary();
        if (binary == null) {
            throw new AssertionError("redis-server is not installed: the fleet-mode tests need a real Redis (Debian package "
                    + PACKAGE + "; .ci/run installs it: apt-get install redis-server)");
        }
        Path dir = Files.createTempDirectory("connguard-redis-it");
        RedisServer server = new RedisServer(binary, dir, freePort());
        Runtime.getRuntime().addShutdownHook(server.shutdownHook);
        try {
            server.launch();
        } catch (Exception | AssertionError e) {
            server.close();
            throw e;
        }
        return server;
    }

    int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}, without credentials. */
    String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** {@code redis://:<password>@127.0.0.1:<port>} once {@link #requirePass} was called, else {@link #url()}. */
    String urlWithPassword() {
        return password == null ? url() : "redis://:" + password + "@127.0.0.1:" + port;
    }

    /** The PID of the running redis-server; fails if it is not running. */
    long pid() {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("redis-server on port " + port + " is not running");
        }
        return process.pid();
    }

    boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** The log of every start so far (one file, appended). */
    Path log() {
        return dir.resolve("redis.log");
    }

    /**
     * From now on clients must authenticate with this password ({@code CONFIG SET requirepass}, for
     * the default user), in this run and after every {@link #restart()}.
     */
    void requirePass(String newPassword) throws IOException {
        if (newPassword == null || newPassword.isEmpty()) {
            throw new IllegalArgumentException("requirePass: a non-empty password");
        }
        String reply = call("CONFIG", "SET", "requirepass", newPassword);
        if (!"OK".equals(reply)) {
            throw new AssertionError("CONFIG SET requirepass answered " + reply);
        }
        password = newPassword;
    }

    /** Stops it: SIGTERM by PID, SIGKILL if it has not ended within 5 s. Idempotent. */
    void stop() {
        if (process != null) {
            if (paused) {
                try {
                    resume(); // a stopped process acts on SIGTERM only once continued
                } catch (Exception | AssertionError ignored) {
                    // Processes.stop ends it by force anyway
                }
            }
            if (!Processes.stop(process, STOP_GRACE_MS)) {
                System.err.println("RedisServer: redis-server on port " + port + " did not stop on SIGTERM; killed");
            }
            process = null;
            paused = false;
        }
    }

    /** Ends it abruptly (SIGKILL by PID), as a crash would. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(STOP_GRACE_MS, TimeUnit.MILLISECONDS);
            process = null;
            paused = false;
        }
    }

    /** Stops it (if running) and starts it again on the same port, empty; waits until it answers PING. */
    void restart() throws Exception {
        stop();
        launch();
    }

    /** Freezes it with SIGSTOP: the kernel still accepts connections, Redis answers nothing. */
    void pause() throws Exception {
        signal("STOP");
        paused = true;
    }

    /** Thaws it after {@link #pause()}. */
    void resume() throws Exception {
        signal("CONT");
        paused = false;
    }

    /**
     * One command over a fresh raw connection (after {@code AUTH} when a password is set); the
     * reply as text: status and bulk strings as they are, integers in decimal, errors as
     * {@code -ERR ...}, a nil as null, arrays flattened one element per line.
     */
    String call(String... command) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), IO_TIMEOUT_MS);
            socket.setSoTimeout(IO_TIMEOUT_MS);
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            if (password != null) {
                out.write(encode("AUTH", password));
                out.flush();
                String auth = readReply(in);
                if (!"OK".equals(auth)) {
                    throw new IOException("AUTH answered " + auth);
                }
            }
            out.write(encode(command));
            out.flush();
            return readReply(in);
        }
    }

    private void launch() throws Exception {
        starts++;
        List<String> cmd = new ArrayList<>(List.of(binary.toString(),
                "--port", String.valueOf(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--supervised", "no",
                "--dir", dir.toString(),
                "--logfile", ""));
        if (password != null) {
            cmd.add("--requirepass");
            cmd.add(password);
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        IOException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("redis-server exited with " + process.exitValue() + " before answering on port "
                        + port + " (start " + starts + "); " + log() + ":\n" + readLog());
            }
            try {
                String pong = call("PING");
                if ("PONG".equals(pong)) {
                    return;
                }
                last = new IOException("PING answered " + pong);
            } catch (IOException notYet) {
                last = notYet;
            }
            Thread.sleep(25);
        }
        stop();
        throw new AssertionError("redis-server not answering PING on port " + port + " after " + START_TIMEOUT_MS
                + " ms (last: " + last + "); " + log() + ":\n" + readLog());
    }

    private void signal(String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid())).redirectErrorStream(true).start();
        if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -" + signal + " " + pid() + " failed: "
                    + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private String readLog() {
        try {
            return Files.exists(log()) ? Files.readString(log()) : "(none)";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** Keeps the server's log next to the other IT logs, under this name. */
    void keepLog(String name) {
        try {
            Path target = Artifacts.logDir().resolve(name);
            Files.createDirectories(target);
            if (Files.exists(log())) {
                Files.copy(log(), target.resolve("redis.log"), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            System.err.println("RedisServer: cannot keep the log " + name + ": " + e);
        }
    }

    /** If the test JVM is stopped before {@link #close()}: at least end the server, by PID. */
    private void killNow() {
        Process p = process;
        if (p != null) {
            try {
                new ProcessBuilder("kill", "-CONT", String.valueOf(p.pid())).start().waitFor(2, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // SIGKILL works on a stopped process too
            }
            p.destroyForcibly();
        }
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
        stop();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory; the OS cleans up eventually
        }
    }

    // ---- RESP, just enough for test set-up and inspection ----

    private static byte[] encode(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.UTF_8));
        for (String arg : args) {
            byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.writeBytes(bytes);
            out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    private static String readReply(InputStream in) throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new IOException("connection closed before a reply");
        }
        String line = readLine(in);
        switch (type) {
            case '+':
            case ':':
                return line;
            case '-':
                return "-" + line;
            case '$': {
                int length = Integer.parseInt(line);
                if (length < 0) {
                    return null;
                }
                byte[] bytes = in.readNBytes(length + 2);
                if (bytes.length != length + 2) {
                    throw new IOException("connection closed inside a bulk string");
                }
                return new String(bytes, 0, length, StandardCharsets.UTF_8);
            }
            case '*': {
                int count = Integer.parseInt(line);
                if (count < 0) {
                    return null;
                }
                List<String> parts = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    parts.add(String.valueOf(readReply(in)));
                }
                return String.join("\n", parts);
            }
            default:
                throw new IOException("unexpected RESP type '" + (char) type + "' " + line);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int previous = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed inside a reply");
            }
            if (previous == '\r' && b == '\n') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
            }
            line.write(b);
            previous = b;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}

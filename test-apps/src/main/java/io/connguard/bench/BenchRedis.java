package io.connguard.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A private Redis for the fleet benchmarks ({@code FleetHookPathBenchmark}, {@link FleetBench}):
 * Debian's {@code redis-server} as a child process on a free loopback port, in a temporary
 * directory, without persistence, in the foreground; stopped by its PID (SIGTERM, then SIGKILL),
 * also from a shutdown hook if the benchmark dies first. {@link #call} speaks just enough RESP to
 * read {@code INFO commandstats}, so that the benchmarks count the exchanges Redis itself saw.
 */
public final class BenchRedis implements AutoCloseable {

    private static final long START_TIMEOUT_MS = 15_000;
    private static final Pattern EVALSHA = Pattern.compile("(?m)^cmdstat_evalsha:calls=(\\d+)");

    private final Path dir;
    private final int port;
    private final Process process;
    private final Thread shutdownHook;

    private BenchRedis(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
        this.shutdownHook = new Thread(this::kill, "bench-redis-cleanup");
    }

    /** Starts a redis-server on a free 127.0.0.1 port and waits (at most 15 s) until it answers PING. */
    public static BenchRedis start() throws IOException, InterruptedException {
        Path binary = binary();
        if (binary == null) {
            throw new IllegalStateException("redis-server is not installed (Debian package redis-server): the fleet"
                    + " benchmarks measure against a real Redis");
        }
        Path dir = Files.createTempDirectory("connguard-bench-redis");
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder(binary.toString(), "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir.toString(),
                "--logfile", dir.resolve("redis.log").toString());
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile());
        BenchRedis redis = new BenchRedis(dir, port, pb.start());
        Runtime.getRuntime().addShutdownHook(redis.shutdownHook);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        while (true) {
            try {
                if ("PONG".equals(redis.call("PING"))) {
                    return redis;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!redis.process.isAlive() || System.nanoTime() > deadline) {
                String log = readQuietly(dir.resolve("redis.log")) + readQuietly(dir.resolve("redis.out"));
                redis.close();
                throw new IllegalStateException("redis-server did not answer PING on 127.0.0.1:" + port
                        + " within " + START_TIMEOUT_MS + " ms; its log:\n" + log);
            }
            Thread.sleep(20);
        }
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** How many {@code EVALSHA} calls (the agent's permit exchanges) this Redis has answered. */
    public long evalshaCalls() throws IOException {
        Matcher m = EVALSHA.matcher(call("INFO", "commandstats"));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** One command; the reply as text (simple string, bulk string or integer); an error reply throws. */
    public String call(String... args) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            s.setSoTimeout(2_000);
            OutputStream out = s.getOutputStream();
            StringBuilder cmd = new StringBuilder().append('*').append(args.length).append("\r\n");
            for (String a : args) {
                byte[] b = a.getBytes(StandardCharsets.UTF_8);
                cmd.append('$').append(b.length).append("\r\n").append(a).append("\r\n");
            }
            out.write(cmd.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = new BufferedInputStream(s.getInputStream());
            String line = readLine(in);
            switch (line.isEmpty() ? '?' : line.charAt(0)) {
                case '+':
                case ':':
                    return line.substring(1);
                case '$': {
                    int n = Integer.parseInt(line.substring(1));
                    if (n < 0) {
                        return null;
                    }
                    byte[] body = in.readNBytes(n + 2);
                    return new String(body, 0, n, StandardCharsets.UTF_8);
                }
                default:
                    throw new IOException("redis answered " + line);
            }
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    /** SIGTERM by PID, SIGKILL after 5 s; removes the temporary directory. */
    @Override
    public void close() {
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // shutting down already
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Collections.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a temporary directory
        }
    }

    private void kill() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static Path binary() {
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

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    private static String readQuietly(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }
}

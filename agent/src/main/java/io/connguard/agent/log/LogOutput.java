package io.connguard.agent.log;

import io.connguard.agent.config.LogFormat;
import io.connguard.agent.config.LogLevel;
import io.connguard.agent.config.Setting;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where {@link AgentLog} writes when {@code CONNGUARD_LOG_FILE} or {@code CONNGUARD_LOG_FORMAT=json}
 * is set: our own small writer, because SLF4J Simple can neither write JSON nor append to a file
 * (it truncates the file it is given).
 *
 * <p><b>Concurrency without a lock of ours.</b> Each event is formatted into one string first, so
 * nothing is shared while formatting. For a file, the string goes out as one
 * {@link FileOutputStream#write(byte[])} on a descriptor opened for appending
 * ({@code O_APPEND}): that is one {@code write(2)}, which the kernel appends as a whole, so lines
 * of different threads (and of other JVMs sharing the file) never interleave, and no thread ever
 * waits for another one in Java code; {@code FileOutputStream.write} takes no lock, so a virtual
 * thread is not pinned either. The cost is one system call per line, which is fine for a log that
 * writes a line per event, not per request. For stderr, the string goes to {@code System.err} in
 * one {@code print}, whose own internal lock keeps lines whole, exactly as SLF4J Simple did.
 *
 * <p><b>Lazy and fail-safe.</b> The file is opened with the first line, never in premain (java.io,
 * not NIO: on JDK 25 an NIO file channel loads {@code sun.nio.ch} classes before they can be
 * rewritten). If it cannot be opened (no such directory, no permission, a directory), or a write
 * fails later (disk full), one line on stderr names the setting, the path and the reason, and the
 * log continues on stderr: nothing here ever throws into the host.
 */
final class LogOutput {

    /** Where lines go: a file, or stderr when {@code file} is null. */
    private static final class Target {
        static final Target STDERR = new Target(null);
        final FileOutputStream file;

        Target(FileOutputStream file) {
            this.file = file;
        }
    }

    private final String path;
    private final LogFormat format;
    private final AtomicReference<Target> target = new AtomicReference<>();

    /** {@code path} empty for stderr. */
    LogOutput(String path, LogFormat format) {
        this.path = path;
        this.format = format;
    }

    void write(LogLevel level, String message, Throwable error) {
        // The target first: a report that the file cannot be opened comes before this line, and in time order.
        Target t = target();
        String line = LogLine.format(format, System.currentTimeMillis(), level, message, error);
        if (t.file != null) {
            try {
                t.file.write(line.getBytes(StandardCharsets.UTF_8));
                return;
            } catch (IOException | RuntimeException e) {
                if (target.compareAndSet(t, Target.STDERR)) {
                    close(t);
                    stderr(LogLevel.ERROR, "connguard: " + setting() + ": cannot write to '" + path + "': " + e
                            + "; logging to stderr from now on");
                }
            }
        }
        stderr(line);
    }

    private Target target() {
        Target t = target.get();
        if (t != null) {
            return t;
        }
        if (path.isEmpty()) {
            target.compareAndSet(null, Target.STDERR);
            return target.get();
        }
        String failure = null;
        Target opened;
        try {
            opened = new Target(new FileOutputStream(path, true));
        } catch (IOException | RuntimeException e) {
            failure = reason(e);
            opened = Target.STDERR;
        }
        if (!target.compareAndSet(null, opened)) {
            // Another thread opened it first: use theirs, so there is one descriptor and one report.
            close(opened);
            return target.get();
        }
        if (failure != null) {
            stderr(LogLevel.ERROR, "connguard: " + setting() + ": cannot append to '" + path + "': " + failure
                    + "; logging to stderr instead");
        }
        return opened;
    }

    /** FileNotFoundException says "{@code <path> (No such file or directory)}": the part in brackets, as the path is named already. */
    private String reason(Exception e) {
        String m = e.getMessage();
        if (m == null) {
            return e.toString();
        }
        if (m.startsWith(path + " (") && m.endsWith(")")) {
            return m.substring(path.length() + 2, m.length() - 1);
        }
        return m;
    }

    private void stderr(LogLevel level, String message) {
        stderr(LogLine.format(format, System.currentTimeMillis(), level, message, null));
    }

    private static void stderr(String line) {
        PrintStream err = System.err;
        err.print(line);
    }

    private static void close(Target t) {
        if (t.file != null) {
            try {
                t.file.close();
            } catch (IOException ignored) {
                // Nothing to do: the descriptor is gone either way.
            }
        }
    }

    private static String setting() {
        return Setting.LOG_FILE.displayName();
    }
}

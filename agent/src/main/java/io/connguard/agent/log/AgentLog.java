package io.connguard.agent.log;

import io.connguard.agent.config.LogFormat;
import io.connguard.agent.config.LogLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent's only way to log: one line per event, logger name {@code connguard}. By default on
 * stderr, through the agent's own relocated SLF4J (so it never meets the application's SLF4J or
 * its configuration); with {@code CONNGUARD_LOG_FILE} or {@code CONNGUARD_LOG_FORMAT=json}
 * through {@link LogOutput}, which writes the same text line, or one JSON object, itself.
 *
 * <p>SLF4J is set up, or the log file opened, on the first line actually logged, not at class load
 * or when configured, and it touches no logging framework of the application (no
 * {@code java.util.logging}).
 * Never log a secret: callers pass host:port and counts only, never headers, URL user-info or
 * query strings.
 */
public final class AgentLog {

    /** Distinct keys of "once" messages are bounded so a flood of hosts cannot grow this forever. */
    private static final int MAX_ONCE_KEYS = 4096;

    private static volatile LogLevel level = LogLevel.INFO;
    private static volatile Logger logger;
    /** Null: SLF4J Simple on stderr, as by default; else the file or JSON writer. */
    private static volatile LogOutput output;
    private static final Set<String> ONCE = ConcurrentHashMap.newKeySet();

    private AgentLog() {
    }

    public static void setLevel(LogLevel newLevel) {
        level = newLevel;
    }

    /**
     * Level and destination from the settings: {@code file} empty for stderr. Cheap: nothing is
     * opened or set up until the first line is logged.
     */
    public static void configure(LogLevel newLevel, String file, LogFormat format) {
        output = file.isEmpty() && format == LogFormat.TEXT ? null : new LogOutput(file, format);
        level = newLevel;
    }

    public static boolean isEnabled(LogLevel messageLevel) {
        return level.enables(messageLevel);
    }

    public static void error(String message) {
        log(LogLevel.ERROR, message, null);
    }

    public static void error(String message, Throwable error) {
        log(LogLevel.ERROR, message, error);
    }

    public static void warn(String message) {
        log(LogLevel.WARN, message, null);
    }

    public static void info(String message) {
        log(LogLevel.INFO, message, null);
    }

    public static void debug(String message) {
        log(LogLevel.DEBUG, message, null);
    }

    public static void debug(String message, Throwable error) {
        log(LogLevel.DEBUG, message, error);
    }

    /** Logs {@code message} only the first time {@code key} is seen. */
    public static void once(LogLevel messageLevel, String key, String message, Throwable error) {
        if (!isEnabled(messageLevel)) {
            return;
        }
        if (ONCE.contains(key)) {
            return;
        }
        // Past the bound, keys are no longer remembered: better a repeated line than a lost one.
        if (ONCE.size() >= MAX_ONCE_KEYS || ONCE.add(key)) {
            log(messageLevel, message, error);
        }
    }

    private static void log(LogLevel messageLevel, String message, Throwable error) {
        if (!level.enables(messageLevel)) {
            return;
        }
        try {
            LogOutput out = output;
            if (out != null) {
                out.write(messageLevel, message, error);
                return;
            }
            Logger l = logger();
            switch (messageLevel) {
                case ERROR:
                    l.error(message, error);
                    break;
                case WARN:
                    l.warn(message, error);
                    break;
                case INFO:
                    l.info(message, error);
                    break;
                case DEBUG:
                    l.debug(message, error);
                    break;
                default:
                    l.trace(message, error);
                    break;
            }
        } catch (Throwable t) {
            // Logging must never break the host; fall back to a plain line on stderr.
            System.err.println("connguard " + messageLevel + " " + message);
        }
    }

    private static Logger logger() {
        Logger l = logger;
        if (l == null) {
            // These keys are relocated with SLF4J when the agent jar is shaded, so they configure
            // only the agent's own copy. The level is filtered above, so let everything through.
            setDefault("org.slf4j.simpleLogger.defaultLogLevel", "trace");
            setDefault("org.slf4j.simpleLogger.logFile", "System.err");
            setDefault("org.slf4j.simpleLogger.showDateTime", "true");
            setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
            setDefault("org.slf4j.simpleLogger.showThreadName", "false");
            setDefault("org.slf4j.simpleLogger.showLogName", "true");
            // The shaded libraries (Micrometer, the Prometheus client) log through this SLF4J
            // too, unfiltered by our level: only their warnings are worth an operator's time.
            setDefault("org.slf4j.simpleLogger.log.io.connguard.shaded", "warn");
            l = LoggerFactory.getLogger("connguard");
            logger = l;
        }
        return l;
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}

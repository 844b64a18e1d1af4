package io.connguard.testapps.common;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Stopping a child process we started: by its PID, politely first, bounded in time. */
public final class Processes {

    private Processes() {
    }

    /**
     * Closes its stdin, asks it to stop ({@link Process#destroy()}, SIGTERM), and kills it
     * ({@link Process#destroyForcibly()}) if it has not stopped within {@code graceMillis}.
     *
     * @return false if it had to be killed
     */
    public static boolean stop(Process process, long graceMillis) {
        if (!process.isAlive()) {
            return true;
        }
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // already closed
        }
        process.destroy();
        try {
            if (process.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
                return true;
            }
            process.destroyForcibly();
            process.waitFor(graceMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        return false;
    }
}

package io.connguard.testapps.demo;

import io.connguard.testapps.common.Processes;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Every process the demo starts, so that each one is stopped by its PID: stdin closed,
 * {@link Process#destroy()}, then {@link Process#destroyForcibly()} after a grace period. Also on
 * failure and on Ctrl-C (a shutdown hook).
 */
final class ChildProcesses implements AutoCloseable {

    private static final long GRACE_SECONDS = 5;

    private final List<Process> children = new ArrayList<>();
    private final Thread hook = new Thread(this::stopAll, "connguard-demo-cleanup");

    ChildProcesses() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    synchronized Process start(ProcessBuilder builder) throws IOException {
        Process process = builder.start();
        children.add(process);
        return process;
    }

    static void stop(Process process) {
        if (!Processes.stop(process, TimeUnit.SECONDS.toMillis(GRACE_SECONDS))) {
            System.err.println("demo: pid " + process.pid() + " did not stop in " + GRACE_SECONDS + " s; killed it");
        }
    }

    synchronized void stopAll() {
        for (Process process : children) {
            stop(process);
        }
        children.clear();
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down: the hook is running or has run
        }
    }
}

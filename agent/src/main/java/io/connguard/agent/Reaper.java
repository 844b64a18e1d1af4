package io.connguard.agent;

import io.connguard.agent.core.Governor;
import io.connguard.agent.log.AgentLog;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The daemon thread that gives back the slots of connections that became garbage without being
 * closed. Started with the first governed connection, not in premain. Its wait is bounded, so it
 * never parks forever.
 */
final class Reaper implements Runnable {
    volatile Governor governor;
    private final AtomicBoolean started = new AtomicBoolean();

    void start() {
        if (started.compareAndSet(false, true)) {
            Thread t = new Thread(this, "connguard-reaper");
            t.setDaemon(true);
            t.start();
        }
    }

    @Override
    public void run() {
        while (true) {
            try {
                governor.releaseCollected(10_000);
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                AgentLog.debug("connguard: leak reaper error: " + t);
            }
        }
    }
}

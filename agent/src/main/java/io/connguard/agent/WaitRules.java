package io.connguard.agent;

import io.connguard.agent.core.Governor;
import io.connguard.agent.instrument.http.ClientModule;

import java.util.List;

/**
 * Which connects may wait in line for a slot. Asked only when a connect would have to wait.
 *
 * <ul>
 *   <li>A blocking connect waits, unless it runs on a client's event-loop thread.</li>
 *   <li>A non-blocking {@code SocketChannel.connect} never waits: its caller relies on it
 *       returning at once, and is usually a selector loop (Netty, Reactor, Vert.x, an NIO
 *       reactor) that serves every other connection, including the ones whose close would free
 *       the slot. It takes a free slot if there is one, and otherwise goes ahead ungoverned,
 *       counted and logged.</li>
 *   <li>The exception: a client whose own non-blocking connect is made where waiting is what a
 *       blocking client would do ({@link ClientModule#mayWaitNonBlocking}) may wait there, but
 *       never on that client's event loop ({@link ClientModule#onEventLoop}).</li>
 * </ul>
 */
final class WaitRules implements Governor.WaitPolicy {

    private final ClientModule[] clients;

    WaitRules(List<ClientModule> clients) {
        this.clients = clients.toArray(new ClientModule[0]);
    }

    @Override
    public boolean mayWait(Object connection, boolean blocking) {
        Thread current = Thread.currentThread();
        for (ClientModule client : clients) {
            if (client.onEventLoop(current)) {
                return false;
            }
        }
        if (blocking) {
            return true;
        }
        for (ClientModule client : clients) {
            if (client.mayWaitNonBlocking()) {
                return true;
            }
        }
        return false;
    }
}

package io.connguard.agent.fleet.redis;

import java.net.Socket;

/**
 * A socket the agent opens for itself (its fleet store's connection). The connect hooks let it
 * through ungoverned: capping the agent's own Redis connection by a fleet cap would need a permit
 * from the very store it connects to.
 */
public final class AgentSocket extends Socket {
}

package io.connguard.agent.core;

/** When the core captures the stack of the code that opens or borrows a connection. */
public enum StackMode {
    ALL, SAMPLED, OFF
}

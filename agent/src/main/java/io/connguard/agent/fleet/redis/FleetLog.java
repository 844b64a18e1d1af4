package io.connguard.agent.fleet.redis;

import io.connguard.agent.core.fleet.FleetBackend;
import io.connguard.agent.core.fleet.FleetCoordinator;
import io.connguard.agent.log.AgentLog;

/** The fleet coordinator's log lines: one when the store goes away, one when it is back. */
public final class FleetLog implements FleetCoordinator.Events {

    @Override
    public void fallback(FleetBackend backend, Throwable cause, int fallbackLimit) {
        String why = cause instanceof FleetBackend.Refused
                ? " refused the permit exchange (" + cause.getMessage() + "; check the Redis user's permissions:"
                        + " see Fleet mode in the README)"
                : " cannot be reached (" + (cause.getMessage() != null ? cause.getMessage() : cause.toString()) + ")";
        AgentLog.warn("connguard: fleet store " + backend.describe() + why
                + "; connects to fleet-capped hosts go on with at most " + (fallbackLimit == 0 ? "no limit"
                : fallbackLimit + " connections per host") + " in this JVM (CONNGUARD_FLEET_FALLBACK_LIMIT) until it"
                + " is back; trying again every second");
    }

    @Override
    public void recovered(FleetBackend backend) {
        AgentLog.info("connguard: fleet store " + backend.describe() + " is back; fleet-wide caps hold again");
    }
}

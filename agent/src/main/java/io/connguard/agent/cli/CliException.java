package io.connguard.agent.cli;

/** Ends a command with one line on stderr and an exit code (see {@link Main}). */
final class CliException extends Exception {

    private static final long serialVersionUID = 1L;

    final int exitCode;

    CliException(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }
}

package io.connguard.agent.cli;

import io.connguard.agent.config.AgentArguments;
import io.connguard.agent.config.AgentConfig;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * {@code java -jar connguard-agent.jar status|attach|help}: the operator's tools. Nothing here
 * runs inside the application: this is a separate JVM that reaches the target through the Attach
 * API ({@code jdk.attach}) and local JMX.
 *
 * <p>Exit codes: 0 done; 1 the target failed (the agent did not start, JMX failed); 2 bad command
 * line or settings; 3 no such process; 4 not a JVM, or one this user may not attach to;
 * 5 (status) the JVM runs no ConnGuard; 6 (attach) the JVM runs ConnGuard already.
 */
public final class Main {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int NO_PROCESS = 3;
    static final int CANNOT_ATTACH = 4;
    static final int NO_AGENT = 5;
    static final int ALREADY_ATTACHED = 6;

    static final String HELP = String.join("\n",
            "usage: java -jar connguard-agent.jar <command>",
            "  status <pid> [--watch [seconds]] [--count n] [--leaks]",
            "      per-host table of a JVM that runs ConnGuard; --watch redraws it every few seconds (default 2)",
            "      until Ctrl-C or n tables; --leaks adds the current suspected leaks with their stacks",
            "  attach <pid> [SETTING=value ...]",
            "      loads ConnGuard into a running JVM; settings as CONNGUARD_HOST_LIMITS=host=8 or",
            "      connguard.host.limits=host=8 win over the JVM's own environment and -D options",
            "  help",
            "exit codes: 0 ok, 1 target failed, 2 usage, 3 no such process, 4 cannot attach,",
            "            5 no ConnGuard in the JVM, 6 ConnGuard already attached");

    private Main() {
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        System.out.flush();
        System.exit(code);
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length == 0 || "help".equals(args[0]) || "--help".equals(args[0]) || "-h".equals(args[0])) {
                out.println(HELP);
                return args.length == 0 ? USAGE : OK;
            }
            List<String> rest = List.of(args).subList(1, args.length);
            switch (args[0]) {
                case "status":
                    return status(rest, out);
                case "attach":
                    return attach(rest, out);
                default:
                    throw new CliException(USAGE, "unknown command '" + args[0] + "'; try: status, attach, help");
            }
        } catch (CliException e) {
            err.println("connguard: " + e.getMessage());
            return e.exitCode;
        }
    }

    private static int status(List<String> args, PrintStream out) throws CliException {
        if (args.isEmpty()) {
            throw new CliException(USAGE, "status needs a pid: java -jar connguard-agent.jar status <pid> [--watch [seconds]] [--leaks]");
        }
        long pid = pid(args.get(0));
        int watchSeconds = 0;
        int count = 0;
        boolean leaks = false;
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            if ("--leaks".equals(a)) {
                leaks = true;
            } else if ("--watch".equals(a)) {
                watchSeconds = 2;
                if (i + 1 < args.size() && args.get(i + 1).matches("\\d+")) {
                    watchSeconds = number(args.get(++i), "--watch", 1, 3600);
                }
            } else if ("--count".equals(a) && i + 1 < args.size()) {
                count = number(args.get(++i), "--count", 1, Integer.MAX_VALUE);
            } else {
                throw new CliException(USAGE, "status: unknown option '" + a + "'; accepted: --watch [seconds], --count n, --leaks");
            }
        }
        return new StatusCommand(pid, watchSeconds, count, leaks, out).run();
    }

    private static int attach(List<String> args, PrintStream out) throws CliException {
        if (args.isEmpty()) {
            throw new CliException(USAGE, "attach needs a pid: java -jar connguard-agent.jar attach <pid> [SETTING=value ...]");
        }
        long pid = pid(args.get(0));
        AgentArguments settings = AgentArguments.parse(new ArrayList<>(args.subList(1, args.size())));
        List<String> problems = new ArrayList<>(settings.problems());
        // The same checks and one-line errors as at start-up, before anything reaches the target.
        problems.addAll(AgentConfig.load(null, settings.over(new Properties())).problems());
        if (!problems.isEmpty()) {
            throw new CliException(USAGE, String.join("\nconnguard: ", problems) + "\nconnguard: nothing attached");
        }
        return new AttachCommand(pid, settings, out).run();
    }

    private static long pid(String text) throws CliException {
        try {
            long pid = Long.parseLong(text);
            if (pid > 0) {
                return pid;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new CliException(USAGE, "'" + text + "' is not a process id (a whole number > 0, as jps or ps shows)");
    }

    private static int number(String text, String option, int min, int max) throws CliException {
        try {
            int n = Integer.parseInt(text);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new CliException(USAGE, option + " '" + text + "' is not a whole number from " + min + " to " + max);
    }
}

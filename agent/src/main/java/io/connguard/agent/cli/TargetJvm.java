package io.connguard.agent.cli;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * A local JVM reached through the Attach API, after the checks that turn the API's failures
 * into one clear line each.
 *
 * <p>HotSpot's attach on Linux starts the target's attach listener by sending it {@code SIGQUIT}
 * when the listener is not running yet; a process that is not a JVM dies of that. So a process
 * that the JVM list (the {@code hsperfdata} files) does not show is attached only if it catches
 * {@code SIGQUIT}, as a JVM does ({@code SigCgt} in {@code /proc/<pid>/status}).
 */
final class TargetJvm implements AutoCloseable {

    private static final int SIGQUIT = 3;

    final long pid;
    private final VirtualMachine vm;

    private TargetJvm(long pid, VirtualMachine vm) {
        this.pid = pid;
        this.vm = vm;
    }

    static TargetJvm attach(long pid) throws CliException {
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty() || !process.get().isAlive()) {
            throw new CliException(Main.NO_PROCESS, "no process with pid " + pid + " (jps lists the JVMs you can see)");
        }
        if (pid == ProcessHandle.current().pid()) {
            throw new CliException(Main.CANNOT_ATTACH, "pid " + pid + " is this tool itself");
        }
        String me = System.getProperty("user.name");
        Optional<String> owner = process.get().info().user();
        if (owner.isPresent() && me != null && !owner.get().equals(me)) {
            throw new CliException(Main.CANNOT_ATTACH, "pid " + pid + " runs as user " + owner.get() + " and you are "
                    + me + "; the Attach API only reaches JVMs of the same user: run this as " + owner.get()
                    + " (sudo -u " + owner.get() + " java -jar connguard-agent.jar ...)");
        }
        boolean listed = listed(pid);
        if (!listed && !catchesSigquit(pid)) {
            throw new CliException(Main.CANNOT_ATTACH, "pid " + pid + " is not a Java VM" + command(process.get())
                    + " (or one started with -Xrs and without performance data, which cannot be attached to)");
        }
        try {
            return new TargetJvm(pid, VirtualMachine.attach(Long.toString(pid)));
        } catch (AttachNotSupportedException | IOException e) {
            throw new CliException(Main.CANNOT_ATTACH, "cannot attach to pid " + pid + command(process.get()) + ": "
                    + oneLine(e) + " (a JVM started with -XX:+DisableAttachMechanism, or by another user,"
                    + " or in another container, cannot be attached to)");
        }
    }

    Properties systemProperties() throws CliException {
        try {
            return vm.getSystemProperties();
        } catch (IOException e) {
            throw new CliException(Main.FAILED, "cannot read the system properties of pid " + pid + ": " + oneLine(e));
        }
    }

    VirtualMachine vm() {
        return vm;
    }

    @Override
    public void close() {
        try {
            vm.detach();
        } catch (IOException e) {
            // the target went away: nothing to detach from
        }
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\n', ' ').strip();
    }

    private static boolean listed(long pid) {
        String id = Long.toString(pid);
        try {
            List<VirtualMachineDescriptor> vms = VirtualMachine.list();
            return vms.stream().anyMatch(d -> d.id().equals(id));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** True where {@code /proc} cannot tell (not Linux): the Attach API then decides. */
    private static boolean catchesSigquit(long pid) {
        Path status = Path.of("/proc", Long.toString(pid), "status");
        if (!Files.isReadable(status)) {
            return true;
        }
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("SigCgt:")) {
                    return new BigInteger(line.substring("SigCgt:".length()).strip(), 16).testBit(SIGQUIT - 1);
                }
            }
        } catch (IOException | RuntimeException e) {
            return true;
        }
        return true;
    }

    private static String command(ProcessHandle process) {
        return process.info().command().map(c -> " (" + Path.of(c).getFileName() + ")").orElse("");
    }
}

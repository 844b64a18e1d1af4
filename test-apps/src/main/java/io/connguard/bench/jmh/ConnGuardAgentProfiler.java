package io.connguard.bench.jmh;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.profile.ExternalProfiler;
import org.openjdk.jmh.profile.ProfilerException;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.Result;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.List;

/**
 * Not a profiler: the JMH extension point that may add JVM options to a fork at run time. It adds
 * {@code -javaagent:<ConnGuard agent jar>} to every fork whose benchmark declares
 * {@code -Dbench.connguard.variant=with-agent} in its {@code @Fork(jvmArgsAppend)}, and nothing to
 * the others. Enable it with {@code -prof io.connguard.bench.jmh.ConnGuardAgentProfiler}.
 *
 * <p>The jar is, in order: the profiler option {@code jar=<path>}
 * ({@code -prof io.connguard.bench.jmh.ConnGuardAgentProfiler:jar=/x/connguard-agent.jar}), the system
 * property {@code -Dconnguard.agent.jar=<path>} of the JMH command, or
 * {@code agent/target/connguard-agent.jar} relative to the working directory. It is resolved and
 * checked once, before any fork starts; a missing jar stops the run with a message naming the path.
 */
public final class ConnGuardAgentProfiler implements ExternalProfiler {

    static final String JAR_PROPERTY = "connguard.agent.jar";
    static final String DEFAULT_JAR = "agent/target/connguard-agent.jar";

    private final Path jar;

    public ConnGuardAgentProfiler(String options) throws ProfilerException {
        String chosen = null;
        String from = null;
        if (options != null && !options.isBlank()) {
            for (String opt : options.split(";")) {
                if (opt.startsWith("jar=")) {
                    chosen = opt.substring(4);
                    from = "profiler option jar=";
                } else if (!opt.isBlank()) {
                    throw new ProfilerException("unknown option '" + opt + "' for " + getClass().getName()
                            + "; the only option is jar=<path to connguard-agent.jar>");
                }
            }
        }
        if (chosen == null && System.getProperty(JAR_PROPERTY) != null) {
            chosen = System.getProperty(JAR_PROPERTY);
            from = "-D" + JAR_PROPERTY;
        }
        if (chosen == null) {
            chosen = DEFAULT_JAR;
            from = "default " + DEFAULT_JAR + " in the working directory " + Paths.get("").toAbsolutePath();
        }
        Path p = Paths.get(chosen).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            throw new ProfilerException("ConnGuard agent jar not found: " + p + " (" + from + "). Build it with"
                    + " `mvn -B -q install -DskipTests` in the project root, run JMH from the project root, or pass"
                    + " -D" + JAR_PROPERTY + "=<path to connguard-agent.jar>.");
        }
        this.jar = p;
    }

    @Override
    public Collection<String> addJVMInvokeOptions(BenchmarkParams params) {
        return List.of();
    }

    @Override
    public Collection<String> addJVMOptions(BenchmarkParams params) {
        return params.getJvmArgs().contains(AgentVariant.WITH_AGENT) ? List.of("-javaagent:" + jar) : List.of();
    }

    @Override
    public void beforeTrial(BenchmarkParams benchmarkParams) {
    }

    @Override
    public Collection<? extends Result> afterTrial(BenchmarkResult br, long pid, File stdOut, File stdErr) {
        return List.of();
    }

    @Override
    public boolean allowPrintOut() {
        return true;
    }

    @Override
    public boolean allowPrintErr() {
        return true;
    }

    @Override
    public String getDescription() {
        return "Adds -javaagent:<ConnGuard agent jar> to the forks of the with-agent benchmark variants";
    }
}

package io.connguard.bench.jmh;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * CPU time per operation, for every iteration, as two secondary results: {@code cpu.process} (the
 * whole forked JVM: benchmark thread, in-process server, JIT, GC, the agent's own threads) and
 * {@code cpu.worker} (only JMH's worker threads, i.e. the benchmark thread). On a small, shared
 * machine these move much less with the neighbours than the wall-clock score does, and they catch
 * work the agent does off the benchmark thread. Both in microseconds per operation.
 *
 * <p>Process CPU comes from {@code OperatingSystemMXBean.getProcessCpuTime} (clock ticks on Linux:
 * 10 ms resolution, about 0.5% of a 1 s iteration on 2 CPUs); worker CPU from
 * {@code ThreadMXBean.getThreadCpuTime} (nanoseconds). Enable with
 * {@code -prof io.connguard.bench.jmh.CpuPerOpProfiler}.
 */
public final class CpuPerOpProfiler implements InternalProfiler {

    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

    private long processBefore;
    private long[] workers = new long[0];
    private long workersBefore;

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        List<Long> ids = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().contains("-jmh-worker-")) {
                ids.add(t.getId());
            }
        }
        workers = ids.stream().mapToLong(Long::longValue).toArray();
        workersBefore = workerCpu();
        processBefore = os.getProcessCpuTime();
    }

    @Override
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
                                                       IterationResult result) {
        long process = os.getProcessCpuTime() - processBefore;
        long worker = workerCpu() - workersBefore;
        long ops = result.getMetadata().getAllOps();
        List<Result> out = new ArrayList<>();
        if (ops > 0 && process >= 0) {
            out.add(new ScalarResult("cpu.process", process / 1e3 / ops, "us/op", AggregationPolicy.AVG));
        }
        // No worker thread existed yet before the very first iteration; later ones reuse the pool's threads.
        if (ops > 0 && workers.length > 0 && worker >= 0) {
            out.add(new ScalarResult("cpu.worker", worker / 1e3 / ops, "us/op", AggregationPolicy.AVG));
        }
        return out;
    }

    private long workerCpu() {
        long sum = 0;
        for (long id : workers) {
            long t = threads.getThreadCpuTime(id);
            if (t < 0) {
                return -1; // the thread is gone: no worker figure for this iteration
            }
            sum += t;
        }
        return sum;
    }

    @Override
    public String getDescription() {
        return "CPU time per operation: the whole process and the benchmark's worker threads";
    }
}

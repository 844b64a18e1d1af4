package io.connguard.it;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Starts the application JVMs of one test and cleans up after it:
 * <ul>
 *   <li>names each JVM's logs {@code target/it-logs/<Class>-<method>[-<params>]-<n>.out/.err/.cmd};</li>
 *   <li>kills, by PID, every JVM the test started, after each test;</li>
 *   <li>when a test fails, prints the command line and the tail of each JVM's stdout and stderr.</li>
 * </ul>
 * Register as {@code @RegisterExtension final Jvms jvms = new Jvms();}.
 */
final class Jvms implements BeforeEachCallback, AfterEachCallback, TestWatcher {

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    private final List<JvmProcess> started = new CopyOnWriteArrayList<>();
    private String testName = "unnamed";
    private int counter;

    /** A JVM of this JDK feature version (17, 25) for the current test; configure, then start or run. */
    JvmProcess.Builder java(int jdk) {
        counter++;
        return JvmProcess.builder(testName + "-" + counter).jdk(jdk).onStart(started::add);
    }

    /** Starts the JVM, waits (bounded) for it to exit and returns what it printed. */
    AppOutput run(JvmProcess.Builder builder) {
        return run(builder, DEFAULT_TIMEOUT);
    }

    AppOutput run(JvmProcess.Builder builder, Duration timeout) {
        JvmProcess process = builder.start();
        int exit = process.awaitExit(timeout);
        return new AppOutput(process, exit);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        started.clear();
        counter = 0;
        testName = testName(context);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (JvmProcess process : started) {
            process.kill();
        }
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        StringBuilder sb = new StringBuilder("\n##### ").append(testName).append(" failed; its JVMs:\n");
        for (JvmProcess process : started) {
            sb.append(process.diagnostics(40));
        }
        System.err.println(sb);
    }

    static String testName(ExtensionContext context) {
        String cls = context.getRequiredTestClass().getSimpleName();
        String method = context.getTestMethod().map(m -> m.getName()).orElse("all");
        String display = context.getDisplayName();
        String name = cls + "-" + method;
        Optional<String> params = display.equals(method + "()") ? Optional.empty() : Optional.of(display);
        if (params.isPresent()) {
            name += "-" + params.get();
        }
        return name.replaceAll("[^A-Za-z0-9._-]+", "_");
    }
}

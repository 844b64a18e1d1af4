package io.connguard.it;

import com.sun.tools.attach.VirtualMachine;
import io.connguard.testapps.client.QueueTimeoutApp;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.time.Duration;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an operator does in jconsole: connect to a running JVM over JMX (the Attach API, as
 * jconsole does for a local process), read a host's attributes, which match what the server saw,
 * and raise the host's limit at run time, which admits the waiting connect at once.
 */
class JmxLimitChangeIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @ParameterizedTest(name = "jdk{0}")
    @ValueSource(ints = {17, 25})
    void raisingTheLimitOverJmxAdmitsTheWaiter(int jdk) throws Exception {
        JvmProcess app = jvms.java(jdk).agent()
                .env("CONNGUARD_HOST_LIMITS", "127.0.0.1=1")
                .env("CONNGUARD_QUEUE_TIMEOUT", "60s")
                .main(QueueTimeoutApp.class)
                .args("--host", "127.0.0.1", "--port", SERVER.port(), "--max-wait-ms", 90_000, "--hold-ms", 20_000)
                .start();
        await(app, () -> app.stdoutLines().contains("FIRST connected"), "the first connect");

        VirtualMachine vm = VirtualMachine.attach(String.valueOf(app.pid()));
        String address;
        try {
            address = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection jmx = connector.getMBeanServerConnection();
            ObjectName host = new ObjectName("io.connguard:type=Host,host=127.0.0.1,port=" + SERVER.port());
            await(app, () -> jmx.isRegistered(host) && ((Integer) jmx.getAttribute(host, "Queued")) == 1,
                    "the second connect waiting in line");

            assertThat(jmx.getAttribute(host, "Limit")).isEqualTo(1);
            assertThat(jmx.getAttribute(host, "Open")).as("JMX Open matches the server")
                    .isEqualTo(SERVER.stats().get("open").intValue()).isEqualTo(1);
            assertThat(app.stdoutLines()).as("still waiting").doesNotContain("CONNECTED");

            long changedAt = System.nanoTime();
            Object reply = jmx.invoke(new ObjectName("io.connguard:type=Agent"), "setHostLimit",
                    new Object[] {"127.0.0.1", SERVER.port(), 2},
                    new String[] {String.class.getName(), int.class.getName(), int.class.getName()});
            assertThat(reply.toString()).contains("127.0.0.1:" + SERVER.port()).contains("2");
            await(app, () -> app.stdoutLines().contains("CONNECTED"), "the waiter to be admitted");
            assertThat(Duration.ofNanos(System.nanoTime() - changedAt)).as("admitted at once")
                    .isLessThan(Duration.ofSeconds(5));
            assertThat(jmx.getAttribute(host, "Limit")).isEqualTo(2);
            assertThat(jmx.getAttribute(host, "LimitOverridden")).isEqualTo(true);
            await(app, () -> SERVER.stats().get("open") == 2, "the server to see both connections");
            assertThat(jmx.getAttribute(host, "Open")).as("JMX Open matches the server").isEqualTo(2);
            assertThat(jmx.getAttribute(host, "PeakOpen")).isEqualTo(2);
            assertThat(jmx.getAttribute(host, "Connects")).isEqualTo(2L);
            assertThat(jmx.getAttribute(host, "Waits")).isEqualTo(1L);
            Set<ObjectName> agents = jmx.queryNames(new ObjectName("io.connguard:type=Agent"), null);
            assertThat(agents).hasSize(1);
        }
        app.kill();
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void await(JvmProcess app, Check check, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline || !app.isAlive()) {
                throw new AssertionError("timed out waiting for " + what + "\n" + app.diagnostics(30));
            }
            Thread.sleep(50);
        }
    }
}

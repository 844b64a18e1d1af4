package io.connguard.agent.jmx;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.HostState;
import io.connguard.agent.core.fleet.FleetCoordinator;
import io.connguard.agent.log.AgentLog;
import io.connguard.agent.text.Sentences;
import io.connguard.agent.threads.AgentThreads;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Registers the MBeans on the platform MBean server, lazily and off the connect path: nothing
 * happens until the first destination is seen (never in premain, so an application or container
 * that sets up JMX or {@code java.util.logging} itself has done so first), and registration runs
 * on its own daemon thread so a connect never waits for JMX.
 */
public final class JmxRegistrar {

    /** Beyond this many destinations, new ones are counted but get no MBean of their own. */
    static final int MAX_HOST_MBEANS = 1000;

    private final Governor governor;
    private final AgentControl control;
    private final Queue<HostState> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile Thread thread;
    private int registeredHosts;

    public JmxRegistrar(Governor governor, String version, String description, int maxPerHost, String hostLimits,
                        int queueMax, Supplier<List<String>> recentLeaks, FleetCoordinator fleet) {
        this.governor = governor;
        this.control = new AgentControl(governor,
                new AgentControl.Settings(version, description, maxPerHost, hostLimits, queueMax), recentLeaks, fleet);
    }

    /** A destination was seen for the first time: register its MBean soon. */
    public void hostAdded(HostState host) {
        pending.add(host);
        if (started.compareAndSet(false, true)) {
            Thread t = AgentThreads.create("connguard-jmx", this::run);
            thread = t;
            t.start();
        } else {
            Thread t = thread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    private void run() {
        MBeanServer server;
        try {
            server = ManagementFactory.getPlatformMBeanServer();
            server.registerMBean(control, new ObjectName("io.connguard:type=Agent"));
        } catch (Throwable t) {
            AgentLog.warn(Sentences.jmxFailed(t));
            return;
        }
        while (true) {
            HostState h;
            while ((h = pending.poll()) != null) {
                register(server, h);
            }
            LockSupport.parkNanos(this, TimeUnit.SECONDS.toNanos(5));
        }
    }

    private void register(MBeanServer server, HostState h) {
        if (registeredHosts >= MAX_HOST_MBEANS) {
            AgentLog.once(io.connguard.agent.config.LogLevel.WARN, "jmx-max-hosts",
                    Sentences.jmxTooManyHosts(MAX_HOST_MBEANS), null);
            return;
        }
        try {
            server.registerMBean(new HostView(governor, h), hostName(h));
            registeredHosts++;
        } catch (Throwable t) {
            AgentLog.debug(Sentences.jmxHostFailed(h, t));
        }
    }

    /** {@code io.connguard:type=Host,host=<host>,port=<port>}, quoting hosts that need it (IPv6). */
    public static ObjectName hostName(HostState h) throws Exception {
        String host = h.key().host();
        boolean plain = host.chars().noneMatch(c -> c == ':' || c == ',' || c == '=' || c == '*' || c == '?'
                || c == '"' || c == '\n');
        return new ObjectName("io.connguard:type=Host,host=" + (plain ? host : ObjectName.quote(host))
                + ",port=" + h.key().port());
    }
}

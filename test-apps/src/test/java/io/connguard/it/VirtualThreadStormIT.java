package io.connguard.it;

import io.connguard.testapps.client.LoadClient;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

/**
 * The storm on virtual threads (JDK 25): connects that wait for a slot park in the agent's
 * {@code java.util.concurrent} queue and free their carrier, so 64 virtual threads on a couple
 * of carriers still all get through, and the server still never sees more than the cap.
 */
class VirtualThreadStormIT {

    @RegisterExtension
    static final HarborServer SERVER = new HarborServer(Storm.CAP, Storm.DELAY_MS);

    @RegisterExtension
    final Jvms jvms = new Jvms();

    @ParameterizedTest(name = "jdk25-{0}")
    @ValueSource(strings = {"socket", "urlconnection", "httpclient-shared"})
    void virtualThreadsWaitWithoutPinning(String kind) {
        Object[] args = Storm.loadArgs(SERVER, kind, true);
        args = Arrays.copyOf(args, args.length + 1);
        args[args.length - 1] = "--virtual-threads";
        AppOutput out = jvms.run(jvms.java(25).agent().env("CONNGUARD_HOST_LIMITS", Storm.HOST_LIMITS)
                // Few carriers, so a carrier pinned while waiting would stall the whole storm.
                .jvmArg("-Djdk.virtualThreadScheduler.parallelism=2")
                .main(LoadClient.class).args(args));

        Storm.assertGoverned(out, SERVER);
        Storm.assertHostMBean(out, SERVER);
    }
}

package io.connguard.agent.instrument.socket;

import io.connguard.agent.instrument.InstrumentationModule;
import io.connguard.agent.instrument.TypeInstrumentation;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** The JDK socket and channel layer, where every connect is counted, whatever client made it. */
public final class SocketModule implements InstrumentationModule {

    @Override
    public List<TypeInstrumentation> instrumentations() {
        return List.of(
                new SocketInstrumentation(),
                new SocketChannelInstrumentation(),
                new NioSocketImplInstrumentation(),
                SocketStreamInstrumentation.input(),
                SocketStreamInstrumentation.output());
    }

    /**
     * {@code sun.nio.ch}: a channel's descriptor ({@link ChannelDescriptors}), a socket's read lock
     * ({@link GracefulClose}); {@code sun.security.ssl}:
     * the plain socket under a TLS one, which every pool adapter counts
     * ({@code io.connguard.agent.instrument.http.PoolAdapter#counted}).
     */
    @Override
    public Map<String, Set<String>> jdkPackages() {
        return Map.of("java.base", Set.of("sun.nio.ch", "sun.security.ssl"));
    }
}

package io.connguard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

import org.junit.jupiter.api.Test;

/** The {@link RedisServer} fixture itself: start, PING, restart on the same port, password, pause, stop. */
class RedisServerIT {

    @Test
    void startsRestartsOnTheSamePortAndStops() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            int port = redis.port();
            long pid = redis.pid();
            assertThat(redis.url()).isEqualTo("redis://127.0.0.1:" + port);
            assertThat(redis.call("PING")).isEqualTo("PONG");
            assertThat(redis.call("CONFIG", "GET", "save")).isEqualTo("save\n");
            assertThat(redis.call("CONFIG", "GET", "appendonly")).isEqualTo("appendonly\nno");
            assertThat(redis.call("SET", "k", "v")).isEqualTo("OK");

            redis.stop();
            assertThat(redis.isRunning()).isFalse();
            assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("pid %s after stop()", pid).isEmpty();
            assertThatThrownBy(() -> redis.call("PING")).isInstanceOf(IOException.class);

            redis.restart();
            assertThat(redis.port()).isEqualTo(port);
            assertThat(redis.pid()).isNotEqualTo(pid);
            assertThat(redis.call("PING")).isEqualTo("PONG");
            assertThat(redis.call("GET", "k")).as("nothing persisted").isNull();
        }
    }

    @Test
    void passwordSurvivesRestartAndPauseFreezesReplies() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            redis.requirePass("fleet-pw");
            assertThat(redis.urlWithPassword()).isEqualTo("redis://:fleet-pw@127.0.0.1:" + redis.port());
            assertThat(unauthenticatedPing(redis.port(), 2_000)).startsWith("-NOAUTH");
            redis.restart();
            assertThat(unauthenticatedPing(redis.port(), 2_000)).startsWith("-NOAUTH");
            assertThat(redis.call("PING")).isEqualTo("PONG");

            redis.pause();
            assertThatThrownBy(() -> unauthenticatedPing(redis.port(), 300)).isInstanceOf(SocketTimeoutException.class);
            redis.resume();
            assertThat(redis.call("PING")).isEqualTo("PONG");
            redis.pause(); // close() must end a paused server too
        }
    }

    /** PING without AUTH over a raw socket; the first reply line. */
    private static String unauthenticatedPing(int port, int timeoutMs) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), timeoutMs);
            s.setSoTimeout(timeoutMs);
            s.getOutputStream().write("*1\r\n$4\r\nPING\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            StringBuilder line = new StringBuilder();
            int b;
            while ((b = s.getInputStream().read()) >= 0 && b != '\r') {
                line.append((char) b);
            }
            return line.toString();
        }
    }
}

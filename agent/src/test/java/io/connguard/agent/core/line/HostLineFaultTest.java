package io.connguard.agent.core.line;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A throwable while joining the line leaves the line as it was (issue 14, item 6). */
class HostLineFaultTest {

    /** A pool key whose hashCode throws: a client's route object gone wrong, or no memory left. */
    private static final class BadPoolKey {
        @Override
        public int hashCode() {
            throw new IllegalStateException("injected");
        }
    }

    @Test
    void aPoolKeyThatThrowsLeavesNoWaiterStrandedInTheLine() {
        HostLine line = new HostLine(1, 10, 0, TimeUnit.SECONDS.toNanos(1));
        assertThat(line.tryAcquireNow()).isTrue();
        assertThatThrownBy(() -> line.awaitConnection(new BadPoolKey(), System.nanoTime() + TimeUnit.SECONDS.toNanos(5)))
                .hasMessage("injected");
        assertThat(line.queued()).as("waiters").isZero();
        line.release();
        assertThat(line.held()).isZero();
        assertThat(line.tryAcquireNow()).as("nobody half in line ahead of a newcomer").isTrue();
        line.release();
        assertThat(line.available()).isEqualTo(1);
        assertThat(line.overReleases()).isZero();
        assertThat(line.acquire(System.nanoTime() + TimeUnit.SECONDS.toNanos(1))).isEqualTo(HostLine.Admission.SLOT);
        line.release();
        assertThat(line.held()).isZero();
    }
}

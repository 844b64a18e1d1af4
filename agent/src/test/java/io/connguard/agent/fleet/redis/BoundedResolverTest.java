package io.connguard.agent.fleet.redis;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A name lookup that hangs costs its caller the bound, once per call, and one thread in all. */
class BoundedResolverTest {

    @Test
    void aLookupThatHangsFailsWithinTheBoundAndItsLateAnswerIsUsed() throws Exception {
        CountDownLatch dnsAnswers = new CountDownLatch(1);
        AtomicInteger lookups = new AtomicInteger();
        AtomicInteger threads = new AtomicInteger();
        InetAddress address = InetAddress.getByAddress("redis.internal", new byte[] {10, 0, 0, 7});
        BoundedResolver resolver = new BoundedResolver(host -> {
            lookups.incrementAndGet();
            try {
                dnsAnswers.await(60, TimeUnit.SECONDS); // "never" for this test
            } catch (InterruptedException e) {
                throw new UnknownHostException(host);
            }
            return address;
        }, r -> {
            threads.incrementAndGet();
            Thread t = new Thread(r, "test-resolve");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> resolver.resolve("redis.internal", 200))
                        .isInstanceOf(SocketTimeoutException.class).hasMessageContaining("within 200 ms");
                long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertThat(took).as("resolve %s took", i).isBetween(150L, 1_000L);
            }
            assertThat(lookups.get()).as("lookups started while the first hangs").isEqualTo(1);
            assertThat(threads.get()).isEqualTo(1);
            assertThatThrownBy(() -> resolver.resolve("other.internal", 200))
                    .as("another name while the lookup hangs fails at once").isInstanceOf(SocketTimeoutException.class)
                    .hasMessageContaining("has not answered");

            dnsAnswers.countDown();
            assertThat(resolver.resolve("redis.internal", 2_000)).isSameAs(address);
            assertThat(resolver.resolve("redis.internal", 2_000)).as("a fresh lookup once that one is done")
                    .isSameAs(address);
            assertThat(lookups.get()).as("one more lookup, or two if the first was done before the next call").isBetween(2, 3);
        } finally {
            dnsAnswers.countDown();
        }
    }

    @Test
    void anUnknownNameIsReportedAsSuch() {
        BoundedResolver resolver = new BoundedResolver(host -> {
            throw new UnknownHostException(host + ": Name or service not known");
        }, Thread::new);
        assertThatThrownBy(() -> resolver.resolve("nowhere.invalid", 1_000)).isInstanceOf(UnknownHostException.class);
    }
}

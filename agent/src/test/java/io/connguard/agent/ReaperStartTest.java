package io.connguard.agent;

import io.connguard.agent.core.Governor;
import io.connguard.agent.core.LocalSlotStore;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The reaper gives back the slots of connections dropped unclosed: if it cannot start the first
 * time (issue 14, item 6), it must be tried again, or those slots are lost for good.
 */
class ReaperStartTest {

    private static final OutOfMemoryError NO_THREAD = new OutOfMemoryError("unable to create native thread");

    @Test
    void aReaperThatCouldNotStartStartsOnTheNextCall() throws Exception {
        AtomicInteger made = new AtomicInteger();
        Thread[] started = new Thread[1];
        Reaper reaper = new Reaper(r -> {
            if (made.incrementAndGet() == 1) {
                throw NO_THREAD;
            }
            started[0] = new Thread(() -> { }, "test-reaper"); // not the reaper's loop: it has no governor here
            return started[0];
        });
        assertThatThrownBy(reaper::start).isSameAs(NO_THREAD);
        reaper.start();
        reaper.start();
        assertThat(made).as("tried again once, then started once").hasValue(2);
        started[0].join(5_000);
    }

    @Test
    void theReaperIsStartedAgainWithTheNextDestinationIfItCouldNotStart() {
        AtomicInteger runs = new AtomicInteger();
        AgentEvents events = new AgentEvents(() -> {
            if (runs.incrementAndGet() == 1) {
                throw NO_THREAD;
            }
        });
        Governor g = new Governor((h, p) -> 1, new LocalSlotStore(), 100, 10, events);
        g.host("a.example", 443); // the start fails; the Governor's guard catches it (and it is logged once)
        g.host("b.example", 443);
        g.host("c.example", 443);
        assertThat(runs).as("tried again with the next destination, then not again").hasValue(2);
    }
}

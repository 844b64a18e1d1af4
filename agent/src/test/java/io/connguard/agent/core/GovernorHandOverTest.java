package io.connguard.agent.core;

import io.connguard.ConnectionLimitException;
import io.connguard.agent.core.line.HostLine;
import io.connguard.agent.text.Sentences;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A pool request at the cap waits in the host's line for a connection of its pool, or a slot for its connect. */
class GovernorHandOverTest {

    private static final Governor.PooledCloser NO_CLOSE = pooled -> {
    };

    private static Governor governor(int limit, long queueTimeoutMillis) {
        return new Governor((h, p) -> limit, new LocalSlotStore(), queueTimeoutMillis, 10, new Governor.Listener() {
        }, Sentences::refusal);
    }

    @Test
    void aConnectionComingBackIsHandedToTheRequestOfItsPoolThatWaits() throws Exception {
        Governor g = governor(1, 5_000);
        Object socket = new Object();
        Object pool = new Object();
        assertThat(g.beforeConnect(socket, "h", 80, 0, true)).isSameAs(Governor.ACQUIRED);
        CompletableFuture<Object> waiter = CompletableFuture.supplyAsync(() -> {
            Object got = g.awaitConnection("h", 80, pool, 0);
            g.endAwait();
            return got;
        });
        HostState h = g.host("h", 80);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (h.slots.queued() == 0 && System.nanoTime() < until) {
            Thread.sleep(1);
        }
        Object client = new Object();
        assertThat(g.idle(socket, socket, NO_CLOSE)).isNotNull();
        assertThat(g.offerIdle(socket, pool, client)).isEqualTo(HostLine.Offer.HANDED_OVER);
        assertThat(waiter.get(5, TimeUnit.SECONDS)).isSameAs(client);
        assertThat(h.handOvers()).isEqualTo(1);
        assertThat(h.idle()).as("handed over, never idle").isZero();
        assertThat(h.open()).isEqualTo(1);
        assertThat(h.reclaimed()).isZero();
        assertThat(h.waits()).isEqualTo(1);
    }

    @Test
    void aConnectionHandedOverIsNeverReclaimedWhileAnotherThreadReclaimsIdleOnes() throws Exception {
        Governor g = governor(1, 5_000);
        HostState h = g.host("h", 80);
        Object pool = new Object();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread reclaimer = new Thread(() -> {
            while (!stop.get()) {
                g.reclaimIdle(h);
            }
        });
        reclaimer.start();
        int handedOver = 0;
        try {
            for (int i = 0; i < 300; i++) {
                Object socket = new Object();
                assertThat(g.beforeConnect(socket, "h", 80, 0, true)).isSameAs(Governor.ACQUIRED);
                CompletableFuture<Object> waiter = CompletableFuture.supplyAsync(() -> {
                    Object got = g.awaitConnection("h", 80, pool, 0);
                    g.endAwait();
                    return got;
                });
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (h.slots.queued() == 0 && System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                Object client = new Object();
                java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
                g.idle(socket, client, c -> closed.set(true));
                HostLine.Offer o = g.offerIdle(socket, pool, client);
                if (o == HostLine.Offer.HANDED_OVER) {
                    handedOver++;
                    assertThat(waiter.get(5, TimeUnit.SECONDS)).isSameAs(client);
                    Thread.sleep(0, 50_000);
                    assertThat(closed).as("handed over, then reclaimed (round %d)", i).isFalse();
                    g.closed(socket);
                } else {
                    // reclaimed between idle and the offer: its close gives the waiter the slot
                    assertThat(o).isEqualTo(HostLine.Offer.IDLE);
                    g.closed(socket);
                    assertThat(waiter.get(5, TimeUnit.SECONDS)).isNull();
                }
                assertThat(h.open()).isZero();
            }
        } finally {
            stop.set(true);
            reclaimer.join();
        }
        assertThat(handedOver).isPositive();
    }

    @Test
    void aClosingPoolHasItsIdleConnectionsReclaimedOnlyWhereOthersWait() throws Exception {
        Governor g = governor(1, 5_000);
        HostState h = g.host("h", 80);
        Object pool = new Object();
        Object other = new Object();
        Object socket = new Object();
        java.util.concurrent.atomic.AtomicInteger closes = new java.util.concurrent.atomic.AtomicInteger();
        assertThat(g.beforeConnect(socket, "h", 80, 0, true)).isSameAs(Governor.ACQUIRED);
        g.idle(socket, socket, c -> closes.incrementAndGet());
        assertThat(g.offerIdle(socket, pool, socket)).isEqualTo(HostLine.Offer.IDLE);

        assertThat(g.reclaimClosingPool(p -> p == pool)).as("nobody waits: the pool closes it itself").isZero();

        CompletableFuture<Object> waiter = CompletableFuture.supplyAsync(() -> {
            Object got = g.awaitConnection("h", 80, other, 0);
            g.endAwait();
            return got;
        });
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (h.slots.queued() == 0 && System.nanoTime() < until) {
            Thread.sleep(1);
        }
        assertThat(g.reclaimClosingPool(p -> p == other)).as("another pool's idle connections are not touched").isZero();
        assertThat(g.reclaimClosingPool(p -> p == pool)).isEqualTo(1);
        assertThat(closes).hasValue(1);
        g.closed(socket); // what the closer's close does through the close hook
        assertThat(waiter.get(5, TimeUnit.SECONDS)).as("the waiter got the slot").isNull();
        assertThat(h.reclaimed()).isEqualTo(1);
    }

    @Test
    void aSlotTakenForAPoolRequestIsUsedByItsConnectAndNotTakenTwice() {
        Governor g = governor(1, 100);
        assertThat(g.awaitConnection("h", 80, new Object(), 0)).isNull();
        Object socket = new Object();
        assertThat(g.beforeConnect(socket, "h", 80, 0, true)).isSameAs(Governor.ACQUIRED);
        g.endAwait();
        HostState h = g.host("h", 80);
        assertThat(h.open()).isEqualTo(1);
        assertThat(h.slots.available()).isZero();
        g.closed(socket);
        assertThat(h.slots.available()).isEqualTo(1);
    }

    @Test
    void aSlotNoConnectUsedIsGivenBackWhenTheRequestHasItsConnection() {
        Governor g = governor(1, 100);
        assertThat(g.awaitConnection("h", 80, new Object(), 0)).isNull();
        HostState h = g.host("h", 80);
        assertThat(h.slots.available()).isZero();
        g.endAwait();
        assertThat(h.slots.available()).isEqualTo(1);
    }

    @Test
    void aPoolRequestThatTimesOutMakesItsConnectThrowTheLimitException() {
        Governor g = governor(1, 100);
        assertThat(g.beforeConnect(new Object(), "h", 80, 0, true)).isSameAs(Governor.ACQUIRED);
        assertThat(g.awaitConnection("h", 80, new Object(), 0)).isNull();
        Object result = g.beforeConnect(new Object(), "h", 80, 0, true);
        g.endAwait();
        assertThat(result).isInstanceOf(ConnectionLimitException.class);
        assertThat(((ConnectionLimitException) result).getMessage()).contains("h:80").contains("limit is 1");
        HostState h = g.host("h", 80);
        assertThat(h.queueTimeouts()).isEqualTo(1);
        assertThat(h.open()).isEqualTo(1);
    }
}

package io.connguard.agent.core.line;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ReclaimPlanTest {

    private static final long MS = 1_000_000L;

    private static IdleConnections idle(Object... poolConnectionSince) {
        return new IdleConnections() {
            @Override
            public void forEachIdle(Visitor visitor) {
                for (int i = 0; i < poolConnectionSince.length; i += 3) {
                    visitor.idle(poolConnectionSince[i], poolConnectionSince[i + 1], (Long) poolConnectionSince[i + 2]);
                }
            }

            @Override
            public boolean reclaim(Object connection) {
                return true;
            }
        };
    }

    @Test
    void nothingIdleNothingToPlan() {
        assertThat(ReclaimPlan.choose(idle(), p -> false, 0, 100 * MS, 1_000 * MS)).isNull();
    }

    @Test
    void theLeastRecentlyUsedOfAPoolWithoutWaitersAfterTheSettleTime() {
        long now = 10_000 * MS;
        ReclaimPlan p = ReclaimPlan.choose(idle("A", "a1", now - 10 * MS, "B", "b1", now - 30 * MS, "A", "a2",
                now - 20 * MS), pool -> false, now, 200 * MS, now + 30_000 * MS);
        assertThat(p.connection()).isEqualTo("b1");
        assertThat(p.pool()).isEqualTo("B");
        assertThat(p.atNanos()).isEqualTo(now + 170 * MS);
        assertThat(p.due(now)).isFalse();
    }

    @Test
    void aPoolWithWaitersGivesUpItsConnectionOnlyWhenNoOtherIsIdle() {
        long now = 10_000 * MS;
        Set<Object> waiting = Set.of("A");
        ReclaimPlan p = ReclaimPlan.choose(idle("A", "a1", now - 900 * MS, "B", "b1", now - 10 * MS),
                waiting::contains, now, 200 * MS, now + 30_000 * MS);
        assertThat(p.connection()).isEqualTo("b1");
        p = ReclaimPlan.choose(idle("A", "a1", now - 900 * MS), waiting::contains, now, 200 * MS, now + 30_000 * MS);
        assertThat(p.connection()).isEqualTo("a1");
        assertThat(p.due(now)).isTrue();
    }

    @Test
    void theSettleTimeIsWaivedOnlyWhenItWouldOutlastTheDeadline() {
        long now = 10_000 * MS;
        ReclaimPlan p = ReclaimPlan.choose(idle("A", "a1", now), pool -> false, now, 200 * MS, now + 150 * MS);
        assertThat(p.atNanos()).isEqualTo(now);
        p = ReclaimPlan.choose(idle("A", "a1", now), pool -> false, now, 200 * MS, now + 250 * MS);
        assertThat(p.atNanos()).isEqualTo(now + 200 * MS);
    }

    @Test
    void nanoTimeWrapsAround() {
        long now = Long.MAX_VALUE - 50 * MS;
        ReclaimPlan p = ReclaimPlan.choose(idle("A", "old", now - 10 * MS, "A", "new", now), pool -> false, now,
                200 * MS, now + 30_000 * MS);
        assertThat(p.connection()).isEqualTo("old");
        assertThat(p.due(now + 191 * MS)).isTrue();
        assertThat(p.due(now + 189 * MS)).isFalse();
    }
}

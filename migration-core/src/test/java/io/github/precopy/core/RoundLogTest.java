package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.spi.SyncPeriod;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

final class RoundLogTest {

  private static final long START = 9_000_000_000L;
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  private final RoundLog log = new RoundLog(START);

  @Test
  void aRoundRecordsThePagesAndStreamBytesSentSinceThePreviousSync() {
    log.pagesSent(100);
    log.pagesSent(28);
    MigrationStats.Round first = log.endRound(1, START + 40 * MS, 530_000, 7, 90_000, true, 0);
    log.pagesSent(10);
    MigrationStats.Round second = log.endRound(2, START + 75 * MS, 571_000, 3, 12_000, false, 0);

    assertThat(first).isEqualTo(new MigrationStats.Round(1, 40, 128, 530_000, 7, 90_000, true, 0));
    assertThat(second).isEqualTo(new MigrationStats.Round(2, 75, 10, 41_000, 3, 12_000, false, 0));
    assertThat(log.rounds()).containsExactly(first, second);
  }

  @Test
  void aRoundWithoutPagesRecordsOnlyTheStreamBytesSinceTheLastSync() {
    log.pagesSent(5);
    log.endRound(1, START + MS, 25_000, 0, 0, true, 0);

    MigrationStats.Round empty = log.endRound(2, START + 2 * MS, 25_016, 0, 0, false, 0);

    assertThat(empty.pagesSent()).isZero();
    assertThat(empty.bytesSent()).isEqualTo(16);
  }

  @Test
  void theDirtyPagesRateIsZeroUntilASyncPeriodOfASecondHasPassed() {
    log.endRound(1, START + 400 * MS, 0, 5_000, 0, true, 0);
    log.endRound(2, START + 1_000 * MS - 1, 0, 5_000, 0, true, 0);

    assertThat(log.dirtyPagesRate()).isZero();
  }

  @Test
  void theDirtyPagesRateCountsEveryPageNewlyDirtyOverAPeriodOfAtLeastASecond() {
    log.endRound(1, START + 500 * MS, 0, 1_000, 0, true, 0);
    log.endRound(2, START + 1_000 * MS, 0, 500, 0, true, 0);

    assertThat(log.dirtyPagesRate()).as("1,500 pages over the first second").isEqualTo(1_500);
  }

  @Test
  void theDirtyPagesRateStaysUntilTheNextPeriodIsASecondLong() {
    log.endRound(1, START + 1_000 * MS, 0, 1_500, 0, true, 0);
    log.endRound(2, START + 1_500 * MS, 0, 300, 0, true, 0);
    assertThat(log.dirtyPagesRate()).as("the second period is still open").isEqualTo(1_500);

    log.endRound(3, START + 2_600 * MS, 0, 60, 0, true, 0);

    assertThat(log.dirtyPagesRate()).as("360 pages over 1.6 s").isEqualTo(225);
  }

  @Test
  void roundsAreACopyThatLaterRoundsDoNotChange() {
    log.endRound(1, START + MS, 100, 0, 0, true, 0);
    List<MigrationStats.Round> before = log.rounds();

    log.endRound(2, START + 2 * MS, 200, 0, 0, true, 0);

    assertThat(before).hasSize(1);
    assertThat(log.rounds()).hasSize(2);
    assertThatThrownBy(() -> before.clear()).isInstanceOf(UnsupportedOperationException.class);
    assertThat(log.rounds()).extracting(MigrationStats.Round::syncCount).containsExactly(1L, 2L);
  }

  @Test
  void aSyncAtLeastASecondAfterThePeriodBeganClosesItWithWhatWasDirtiedAndSent() {
    RoundLog log = new RoundLog(START);
    log.endRound(1, START + 10 * MS, 20_000, 0, 500_000, true, 0);
    assertThat(log.closedPeriod()).isNull();
    log.endRound(2, START + 600 * MS, 300_000, 40, 400_000, true, 0);
    assertThat(log.closedPeriod()).as("600 ms is not a period").isNull();

    log.endRound(3, START + 1_200 * MS, 900_000, 60, 300_000, true, 20);

    assertThat(log.closedPeriod())
        .isEqualTo(new SyncPeriod(3, 1_200, 100L * 4096, 900_000, 300_000));
    log.endRound(4, START + 1_300 * MS, 950_000, 5, 300_000, true, 20);
    assertThat(log.closedPeriod()).isNull();
    log.endRound(5, START + 2_300 * MS, 1_500_000, 7, 200_000, true, 30);
    assertThat(log.closedPeriod())
        .isEqualTo(new SyncPeriod(5, 1_100, 12L * 4096, 600_000, 200_000));
    assertThat(log.rounds())
        .extracting(MigrationStats.Round::cpuThrottlePercentage)
        .containsExactly(0L, 0L, 20L, 20L, 30L);
  }
}

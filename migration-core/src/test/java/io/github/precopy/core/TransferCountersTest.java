package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

final class TransferCountersTest {

  private static final long START = 5_000_000_000L;
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  private final TransferCounters counters = new TransferCounters(START);

  @Test
  void startsWithEveryFigureZero() {
    assertThat(counters.snapshot()).isEqualTo(new TransferCounters.Snapshot(0, 0, 0, 0, 0, 0, 0));
    assertThat(counters.transferred()).isZero();
    assertThat(counters.bandwidthBytesPerSecond()).isZero();
  }

  @Test
  void countsNormalAndZeroPagesAndTakesTheStreamLengthAsTransferred() {
    counters.batch(1_000 + 8_300, 8_300, 2, 0, 1, true, START + MS);
    counters.batch(1_000 + 8_300 + 40, 40, 0, 0, 4, true, START + 2 * MS);

    TransferCounters.Snapshot snapshot = counters.snapshot();
    assertThat(snapshot.normalPages()).isEqualTo(2);
    assertThat(snapshot.zeroPages()).isEqualTo(5);
    assertThat(snapshot.transferred())
        .as("the stream's length, its 1,000-byte header included")
        .isEqualTo(9_340);
    assertThat(counters.transferred()).isEqualTo(9_340);
  }

  @Test
  void bytesSentWhileTheGuestRunsArePrecopyAndWhileItIsPausedDowntime() {
    counters.batch(10_000, 10_000, 2, 0, 0, true, START + MS);
    counters.batch(14_000, 4_000, 1, 0, 0, true, START + 2 * MS);
    counters.batch(14_500, 500, 0, 0, 5, false, START + 3 * MS);

    TransferCounters.Snapshot snapshot = counters.snapshot();
    assertThat(snapshot.precopyBytes()).isEqualTo(14_000);
    assertThat(snapshot.downtimeBytes()).isEqualTo(500);
  }

  @Test
  void theBandwidthIsMeasuredOnlyOverAWindowOfAtLeast100Ms() {
    counters.batch(1_000_000, 1_000_000, 244, 0, 0, true, START + 50 * MS);
    counters.batch(2_000_000, 1_000_000, 244, 0, 0, true, START + 100 * MS - 1);
    assertThat(counters.bandwidthBytesPerSecond()).as("before 100 ms").isZero();
    assertThat(counters.snapshot().pagesPerSecond()).isZero();

    counters.batch(3_000_000, 1_000_000, 200, 0, 12, true, START + 100 * MS);

    assertThat(counters.bandwidthBytesPerSecond())
        .as("3 MB over the first 100 ms")
        .isEqualTo(30_000_000.0);
    assertThat(counters.snapshot().bandwidthBytesPerSecond()).isEqualTo(30_000_000.0);
    assertThat(counters.snapshot().pagesPerSecond()).isEqualTo(7_000);
  }

  @Test
  void eachWindowMeasuresOnlyItsOwnBytes() {
    counters.batch(3_000_000, 3_000_000, 700, 0, 0, true, START + 100 * MS);
    counters.batch(3_100_000, 100_000, 20, 0, 5, true, START + 150 * MS);
    assertThat(counters.bandwidthBytesPerSecond())
        .as("the second window is still open")
        .isEqualTo(30_000_000.0);

    counters.batch(3_500_000, 400_000, 80, 0, 20, false, START + 350 * MS);

    assertThat(counters.bandwidthBytesPerSecond())
        .as("500 kB over the 250 ms since the first window closed")
        .isEqualTo(2_000_000.0);
    assertThat(counters.snapshot().pagesPerSecond()).isEqualTo(500);
  }

  @Test
  void theStreamLengthAloneMovesTransferredButNoPageOrRateFigure() {
    counters.batch(9_000, 8_200, 2, 0, 0, true, START + MS);

    counters.streamBytes(9_500);

    assertThat(counters.snapshot())
        .isEqualTo(new TransferCounters.Snapshot(9_500, 2, 0, 8_200, 0, 0, 0));
    assertThat(counters.transferred()).isEqualTo(9_500);
  }

  @Test
  void aSnapshotKeepsTheFiguresPublishedWhenItWasTaken() {
    counters.batch(4_200, 4_100, 1, 0, 0, true, START + 100 * MS);
    TransferCounters.Snapshot first = counters.snapshot();

    counters.batch(12_400, 8_200, 2, 0, 0, true, START + 200 * MS);
    counters.streamBytes(12_500);

    assertThat(first).isEqualTo(new TransferCounters.Snapshot(4_200, 1, 0, 4_100, 0, 41_000, 10));
    assertThat(counters.snapshot())
        .isEqualTo(new TransferCounters.Snapshot(12_500, 3, 0, 12_300, 0, 82_000, 20));
  }
}

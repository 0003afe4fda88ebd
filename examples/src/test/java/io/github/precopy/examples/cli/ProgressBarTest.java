package io.github.precopy.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The progress bar's line, and its silence off a terminal. */
final class ProgressBarTest {

  private static MigrationStats snapshot(long remaining, long transferred) {
    return new MigrationStats(
        MigrationStatus.ACTIVE,
        1000,
        10,
        0,
        0,
        false,
        0,
        new MigrationStats.Ram(transferred, remaining, 1L << 30, 0, 0, 0, 1, 0, 0, 0, 0, 0),
        Map.of(),
        null,
        List.of(),
        null);
  }

  @Test
  void theLineShowsTheShareDoneRemainingTransferredAndStatus() {
    String line = ProgressBar.line("legacy", 1L << 30, snapshot(1L << 28, 3L << 28));

    assertThat(line)
        .isEqualTo(
            "legacy [#######################.......]  75%  remaining 256.00 MiB"
                + "  transferred 768.00 MiB  active");
  }

  @Test
  void aBarOffATerminalWritesNothing() {
    StringWriter err = new StringWriter();
    ProgressBar bar = new ProgressBar(new PrintWriter(err), false);

    bar.start("legacy", 1L << 30);
    bar.update(snapshot(1L << 29, 1L << 29));
    bar.finish();

    assertThat(err.toString()).isEmpty();
  }

  @Test
  void aFinishedBarIsErasedAndIgnoresLateSnapshots() {
    StringWriter err = new StringWriter();
    ProgressBar bar = new ProgressBar(new PrintWriter(err), true);

    bar.start("legacy", 1L << 30);
    bar.update(snapshot(1L << 29, 1L << 29));
    bar.finish();
    String afterFinish = err.toString();
    bar.update(snapshot(0, 1L << 30));

    assertThat(afterFinish).startsWith("\rlegacy [").endsWith("\r");
    assertThat(err.toString()).isEqualTo(afterFinish);
  }
}

package io.github.precopy.balloon;

import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PrecopyPhase;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Free page hinting for one migration: QEMU's {@code virtio_balloon_free_page_hint_notify}. Stops
 * hinting before every dirty-log sync, starts a new round after it while the guest runs, and
 * delivers DONE after the final sync and at cleanup, whatever the outcome.
 *
 * <p>Phases arrive on the migration thread; {@link #statistics()} may be called from any thread.
 */
final class FreePageHintOptimization implements MigrationOptimization {

  private final OptimizationContext context;
  private final FreePageHintDevice device;
  private final FreePageHintDevice.Session session;

  FreePageHintOptimization(
      OptimizationContext context, FreePageHintDevice device, FreePageHintDevice.Session session) {
    this.context = context;
    this.device = device;
    this.session = session;
  }

  @Override
  public void onPhase(PrecopyPhase phase) {
    switch (phase) {
      case BEFORE_BITMAP_SYNC -> device.stop();
      case AFTER_BITMAP_SYNC -> {
        if (context.guestRunning()) {
          device.startRound();
        } else {
          device.done();
        }
      }
      case CLEANUP -> device.done();
      case SETUP, COMPLETE -> {
        // Nothing to do: hinting starts after the setup sync and ends with the final one.
      }
    }
  }

  /**
   * {@code active} (true), {@code status} (the device status, lower case), {@code hinted-pages},
   * {@code rounds}, {@code rejected-hints}, {@code stale-hints} and {@code hint-apply-nanos} (time
   * spent clearing hinted pages from the bitmap).
   */
  @Override
  public Map<String, Object> statistics() {
    FreePageHintDevice.HintCounters counters = session.counters();
    Map<String, Object> statistics = new LinkedHashMap<>();
    statistics.put("active", true);
    statistics.put("status", device.status().name().toLowerCase(Locale.ROOT));
    statistics.put("hinted-pages", counters.hintedPages());
    statistics.put("rounds", counters.rounds());
    statistics.put("rejected-hints", counters.rejected());
    statistics.put("stale-hints", counters.stale());
    statistics.put("hint-apply-nanos", counters.applyNanos());
    return statistics;
  }

  /** Disconnects from the device; the statistics stay readable. */
  @Override
  public void close() {
    device.disconnect(session);
  }

  /** The capability when it cannot run for this guest: nothing happens, the statistics say why. */
  static MigrationOptimization inactive(String reason) {
    Map<String, Object> statistics = new LinkedHashMap<>();
    statistics.put("active", false);
    statistics.put("reason", reason);
    statistics.put("hinted-pages", 0L);
    statistics.put("rounds", 0L);
    statistics.put("rejected-hints", 0L);
    Map<String, Object> fixed = Map.copyOf(statistics);
    return new MigrationOptimization() {
      @Override
      public void onPhase(PrecopyPhase phase) {
        // Plain precopy: the guest cannot hint.
      }

      @Override
      public Map<String, Object> statistics() {
        return fixed;
      }
    };
  }
}

package io.github.precopy.xbzrle;

import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PageEncoder;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.SyncPeriod;
import java.util.Map;

/**
 * XBZRLE for one migration: its {@link XbzrleEncoder} and cache, aged at every dirty-log sync, and
 * its figures, whose rates are taken at the close of every dirty-rate period as QEMU takes them.
 *
 * <p>Phases and periods arrive on the migration thread; {@link #statistics()} may be called from
 * any thread.
 */
final class Xbzrle implements MigrationOptimization {

  private final XbzrleCounters counters;
  private final XbzrleEncoder encoder;

  Xbzrle(OptimizationContext context, XbzrleParameters parameters) {
    if (context.pageSize() != XbzrleEncoding.PAGE_SIZE) {
      throw new IllegalArgumentException(
          "XBZRLE encodes pages of "
              + XbzrleEncoding.PAGE_SIZE
              + " bytes, not "
              + context.pageSize());
    }
    this.counters = new XbzrleCounters(parameters.cacheSize());
    this.encoder = new XbzrleEncoder(context.ramRegions(), parameters.slots(), counters);
  }

  @Override
  public void onPhase(PrecopyPhase phase) {
    if (phase == PrecopyPhase.AFTER_BITMAP_SYNC) {
      encoder.sync();
    }
  }

  @Override
  public void onSyncPeriod(SyncPeriod period) {
    counters.endPeriod();
  }

  /**
   * QEMU's {@code xbzrle-cache} figures: {@code cache-size} (bytes), {@code bytes} (bytes counted
   * for the cached pages: an encoding plus its 3 bytes of flag and length, or a whole page for an
   * overflow), {@code pages} (cached pages looked up, whatever came of them), {@code cache-miss},
   * {@code cache-miss-rate} and {@code encoding-rate} (of the last dirty-rate period, see {@link
   * XbzrleCounters#endPeriod()}) and {@code overflow}.
   */
  @Override
  public Map<String, Object> statistics() {
    return counters.snapshot();
  }

  @Override
  public PageEncoder pageEncoder() {
    return encoder;
  }

  @Override
  public void close() {
    encoder.close();
  }
}

package io.github.precopy.spi;

import java.util.Map;

/**
 * One optimisation taking part in one migration.
 *
 * <p>The engine calls {@link #onPhase} on the migration thread, never while it holds the bitmap
 * lock, and waits for it to return. An exception thrown from here is reported and the optimisation
 * is dropped from the migration, which carries on as plain precopy (QEMU treats notifier errors
 * so). {@link #close()} is called once, after {@link PrecopyPhase#CLEANUP}.
 */
public interface MigrationOptimization extends AutoCloseable {

  /**
   * Called at each phase of the migration in QEMU's order.
   *
   * @param phase the phase being entered
   */
  void onPhase(PrecopyPhase phase);

  /**
   * Called on the migration thread after a sync that closes a dirty-rate period (at least one
   * second long), right after {@link PrecopyPhase#AFTER_BITMAP_SYNC}, while the guest runs. An
   * optimisation that steers convergence decides here, e.g. to throttle the guest through {@link
   * OptimizationContext#throttleGuest}. The default does nothing.
   */
  default void onSyncPeriod(SyncPeriod period) {}

  /**
   * Figures this optimisation reports in the migration statistics under its capability name, e.g.
   * {@code hinted-pages}. Called from any thread at any time, so implementations return a
   * consistent snapshot. Keys are lower-case with dashes, as QEMU's {@code query-migrate}.
   */
  default Map<String, Object> statistics() {
    return Map.of();
  }

  /**
   * The encoder of the pages this migration sends again, or null (the default) to send them as they
   * are. Read once, before the first phase; used only when the provider contributes a {@link
   * MigrationOptimizationProvider#pageCodec()}, which names the encoding in the stream.
   */
  default PageEncoder pageEncoder() {
    return null;
  }

  /** Releases what the optimisation holds. Called once, after {@link PrecopyPhase#CLEANUP}. */
  @Override
  default void close() {}
}

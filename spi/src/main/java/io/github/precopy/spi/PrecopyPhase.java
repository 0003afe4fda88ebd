package io.github.precopy.spi;

/**
 * The points of a precopy migration at which optimisations are notified, in QEMU's order ({@code
 * PrecopyNotifyReason}).
 *
 * <p>A migration emits {@link #SETUP} once, then {@link #BEFORE_BITMAP_SYNC} and {@link
 * #AFTER_BITMAP_SYNC} around every synchronisation of the dirty log into the migration bitmap (the
 * first during setup, the last with the guest paused), {@link #COMPLETE} once the final pages are
 * about to be sent, and {@link #CLEANUP} exactly once at the end, whether the migration completed,
 * failed or was cancelled.
 */
public enum PrecopyPhase {
  /** Migration bitmaps are allocated; no page has been sent yet. */
  SETUP,
  /** A dirty-log sync is about to start; hints of the current round must stop before returning. */
  BEFORE_BITMAP_SYNC,
  /** A dirty-log sync has finished; a new hinting round may start if the guest runs. */
  AFTER_BITMAP_SYNC,
  /** The guest is paused and the final pages are about to be sent. */
  COMPLETE,
  /** The migration is over (completed, failed or cancelled); release everything. */
  CLEANUP
}

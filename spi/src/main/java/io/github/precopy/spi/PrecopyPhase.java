package io.github.precopy.spi;

/**
 * The points of a precopy migration at which optimisations are notified, in QEMU's order ({@code
 * PrecopyNotifyReason}).
 *
 * <p>A migration emits {@link #BEFORE_BITMAP_SYNC} and {@link #AFTER_BITMAP_SYNC} around its first
 * synchronisation of the dirty log into the migration bitmap, then {@link #SETUP} once, then the
 * pair again around every later sync while the guest runs; {@link #COMPLETE} once the guest is
 * paused and the final pages are about to be sent, the pair around the final sync, and {@link
 * #CLEANUP} exactly once at the end, whether the migration completed, failed or was cancelled:
 *
 * <pre>
 * BEFORE, AFTER, SETUP, (BEFORE, AFTER)*, COMPLETE, BEFORE, AFTER, CLEANUP
 * </pre>
 *
 * A migration that fails or is cancelled stops the sequence where it is and ends with {@link
 * #CLEANUP}.
 */
public enum PrecopyPhase {
  /** The migration bitmaps are set up and the first sync taken; no page has been sent yet. */
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

package io.github.precopy.core.memory;

import io.github.precopy.bitmap.PageBitmap;
import java.util.Objects;

/**
 * Exclusive access to the dirty log of a {@link GuestMemory} for one migration: each {@link
 * #drainInto} takes the pages written since the previous drain and clears them from the log, as
 * KVM's {@code KVM_GET_DIRTY_LOG}. A memory has at most one open tracker, so nothing else can take
 * a migration's dirty bits from under it; {@link GuestMemory#startDirtyTracking()} opens it and
 * {@link #close()} gives it back.
 *
 * <p>Thread-safety: guest writers run concurrently with a drain; a page whose write completes
 * before the drain is in that drain or a later one, never lost. {@link #drainInto} is called by one
 * thread at a time.
 */
public final class DirtyTracker implements AutoCloseable {

  private final GuestMemory memory;
  private volatile boolean closed;

  DirtyTracker(GuestMemory memory) {
    this.memory = memory;
  }

  /**
   * Moves the pages of {@code block} written since the last drain into {@code target} (ORed in, one
   * bit per page) and clears them from the log.
   *
   * @return how many pages became newly set in {@code target}
   * @throws IllegalArgumentException if the block is not the memory's or {@code target} is not the
   *     block's size
   * @throws IllegalStateException once the tracker is closed
   */
  public long drainInto(RamBlock block, PageBitmap target) {
    Objects.requireNonNull(target, "target");
    if (closed) {
      throw new IllegalStateException("dirty tracking of this memory has stopped");
    }
    if (memory.blocks().get(block.id()) != block) {
      throw new IllegalArgumentException(block + " is not a block of this memory");
    }
    if (target.size() != block.pageCount()) {
      throw new IllegalArgumentException(
          "bitmap of " + target.size() + " bits for " + block.pageCount() + " pages of " + block);
    }
    return block.drainDirtyLog(target);
  }

  /** Stops tracking; the memory may then be tracked again. Idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      memory.stopDirtyTracking(this);
    }
  }
}

package io.github.precopy.core.memory;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.spi.WriteTracker;
import java.util.List;
import java.util.Objects;

/**
 * Exclusive access to what a {@link GuestMemory}'s writers wrote, for one migration: each {@link
 * #drainInto} takes the pages written since the previous drain and forgets them, as KVM's {@code
 * KVM_GET_DIRTY_LOG}. The pages come from the software dirty log or from the kernel, as {@link
 * DirtyTracking} chose when {@link GuestMemory#startDirtyTracking(String)} opened the tracker; the
 * caller sees no difference. A memory has at most one open tracker, so nothing else can take a
 * migration's dirty pages from under it; {@link #close()} gives it back.
 *
 * <p>Thread-safety: guest writers run concurrently with a drain; a page whose write completes
 * before the drain is in that drain or a later one, never lost. {@link #drainInto} is called by one
 * thread at a time, and never concurrently with {@link #close()}.
 */
public final class DirtyTracker implements AutoCloseable {

  private final GuestMemory memory;
  private final String tracking;

  /** One kernel tracker per block, by block id; null when the software log is drained. */
  private final List<WriteTracker> writeTrackers;

  private volatile boolean closed;

  DirtyTracker(GuestMemory memory, String tracking, List<WriteTracker> writeTrackers) {
    this.memory = memory;
    this.tracking = tracking;
    this.writeTrackers = writeTrackers;
  }

  /** The {@link DirtyTracking} name of where the pages come from. */
  public String tracking() {
    return tracking;
  }

  /**
   * Moves the pages of {@code block} written since the last drain into {@code target} (ORed in, one
   * bit per page) and forgets them.
   *
   * @return how many pages became newly set in {@code target}
   * @throws IllegalArgumentException if the block is not the memory's or {@code target} is not the
   *     block's size
   * @throws IllegalStateException once the tracker is closed
   * @throws java.io.UncheckedIOException if the kernel fails to report the pages
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
    if (writeTrackers == null) {
      return block.drainDirtyLog(target);
    }
    long[] newlySet = {0};
    writeTrackers
        .get(block.id())
        .collect((first, count) -> newlySet[0] += target.setRange(first, first + count));
    return newlySet[0];
  }

  /** Stops tracking; the memory may then be tracked again. Idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      memory.stopDirtyTracking(this);
    }
  }

  /** The kernel trackers to close, or null for the software log. */
  List<WriteTracker> writeTrackers() {
    return writeTrackers;
  }
}

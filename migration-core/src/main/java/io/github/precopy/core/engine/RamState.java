package io.github.precopy.core.engine;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.DirtyTracker;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.spi.FreePageSink;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The migration side of guest RAM (QEMU's {@code RAMState}): one migration bitmap per block (a set
 * bit is a page still to send), the count of set bits, and the bitmap lock that guards both.
 *
 * <p>Invariant: {@link #dirtyPages()} equals the popcount of the migration bitmaps at every moment
 * the lock is free. Every mutation of a bitmap happens under the lock and adjusts the count by what
 * it truly changed.
 *
 * <p>Lock order: a caller holding a device lock may take the bitmap lock (the free-page-hint path),
 * never the other way round; phase notifications are never made with the bitmap lock held.
 */
public final class RamState implements FreePageSink {

  private final GuestMemory memory;
  private final DirtyTracker dirtyTracker;
  private final PageBitmap[] bitmaps;
  private final ReentrantLock lock = new ReentrantLock();
  private long dirtyPages;
  private long hintedPages;
  private volatile boolean acceptingHints;
  private int cursorBlock;
  private long cursorPage;

  /**
   * The RAM state of a migration of {@code memory}, whose dirty log it drains through {@code
   * dirtyTracker}.
   */
  public RamState(GuestMemory memory, DirtyTracker dirtyTracker) {
    this.memory = memory;
    this.dirtyTracker = dirtyTracker;
    List<RamBlock> blocks = memory.blocks();
    this.bitmaps = new PageBitmap[blocks.size()];
    for (int i = 0; i < bitmaps.length; i++) {
      bitmaps[i] = new PageBitmap(blocks.get(i).pageCount());
    }
  }

  /** Marks every page of every block to be sent, as QEMU's {@code ram_list_init_bitmaps}. */
  public void markAllDirty() {
    lock.lock();
    try {
      for (PageBitmap bitmap : bitmaps) {
        dirtyPages += bitmap.setRange(0, bitmap.size());
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Drains every block's dirty log into its migration bitmap.
   *
   * @return the pages that became newly dirty in the migration bitmaps
   */
  public long sync() {
    lock.lock();
    try {
      long newlyDirty = 0;
      List<RamBlock> blocks = memory.blocks();
      for (int i = 0; i < bitmaps.length; i++) {
        newlyDirty += dirtyTracker.drainInto(blocks.get(i), bitmaps[i]);
      }
      dirtyPages += newlyDirty;
      return newlyDirty;
    } finally {
      lock.unlock();
    }
  }

  /** Pages still to send. */
  public long dirtyPages() {
    lock.lock();
    try {
      return dirtyPages;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Of the pages still to send, how many the guest ever wrote (the others are known to be zero).
   * Reads every block's bitmaps: call it now and then, not per page.
   */
  public long dirtyPagesWritten() {
    lock.lock();
    try {
      long written = 0;
      List<RamBlock> blocks = memory.blocks();
      for (int i = 0; i < bitmaps.length; i++) {
        written += blocks.get(i).writtenAmong(bitmaps[i]);
      }
      return written;
    } finally {
      lock.unlock();
    }
  }

  /** Pages cleared by free-page hints over this migration. */
  long hintedPages() {
    lock.lock();
    try {
      return hintedPages;
    } finally {
      lock.unlock();
    }
  }

  /** Opens or closes the hint entry: hints count only while a migration is in setup or active. */
  public void acceptHints(boolean accept) {
    acceptingHints = accept;
  }

  /**
   * Takes up to {@code max} dirty pages off the bitmaps, in block and page order from where the
   * previous call stopped, wrapping once to the first block. Each taken page is cleared and the
   * count adjusted, so the caller owns sending it.
   *
   * @param outBlocks receives the block index of each page taken
   * @param outPages receives the page index of each page taken
   * @return how many pages were taken; 0 only when no page is dirty
   */
  public int takeDirtyPages(int[] outBlocks, long[] outPages, int max) {
    lock.lock();
    try {
      int taken = 0;
      for (int lap = 0; lap <= bitmaps.length && taken < max && dirtyPages - taken > 0; lap++) {
        PageBitmap bitmap = bitmaps[cursorBlock];
        int block = cursorBlock;
        int[] count = {taken};
        bitmap.forEachSetBit(
            cursorPage,
            bitmap.size(),
            page -> {
              bitmap.clear(page);
              outBlocks[count[0]] = block;
              outPages[count[0]] = page;
              return ++count[0] < max;
            });
        if (count[0] == max) {
          cursorPage = outPages[max - 1] + 1;
        } else {
          cursorBlock = (cursorBlock + 1) % bitmaps.length;
          cursorPage = 0;
        }
        taken = count[0];
      }
      dirtyPages -= taken;
      return taken;
    } finally {
      lock.unlock();
    }
  }

  /**
   * QEMU's {@code qemu_guest_free_page_hint}: clears the whole pages of the range from the
   * migration bitmaps, block by block, counting before clearing so only truly cleared pages are
   * subtracted. An address outside every block abandons the rest of the hint. Unlike QEMU, which
   * floors a misaligned start and so clears a page the hint only partly covers, only pages the
   * range covers entirely are cleared; for the page-aligned hints a Linux guest sends, the two
   * agree.
   */
  @Override
  public long freePageHint(long guestAddress, long lengthBytes) {
    if (!acceptingHints || lengthBytes <= 0) {
      return 0;
    }
    long cleared = 0;
    long address = guestAddress;
    long remaining = lengthBytes;
    while (remaining > 0) {
      RamBlock block = memory.blockAt(address);
      if (block == null) {
        break;
      }
      long offset = address - block.guestAddress();
      long used = Math.min(remaining, block.usedLength() - offset);
      long start = (offset + GuestMemory.PAGE_SIZE - 1) >>> GuestMemory.PAGE_SHIFT;
      long end = (offset + used) >>> GuestMemory.PAGE_SHIFT;
      if (end > start) {
        cleared += clear(block.id(), start, end);
      }
      remaining -= used;
      address += used;
    }
    return cleared;
  }

  private long clear(int block, long startPage, long endPage) {
    lock.lock();
    try {
      long cleared = bitmaps[block].clearRange(startPage, endPage);
      dirtyPages -= cleared;
      hintedPages += cleared;
      return cleared;
    } finally {
      lock.unlock();
    }
  }

  /** Popcount of all migration bitmaps, for checking the invariant in tests. */
  long bitmapPopcount() {
    lock.lock();
    try {
      long total = 0;
      for (PageBitmap bitmap : bitmaps) {
        total += bitmap.cardinality();
      }
      return total;
    } finally {
      lock.unlock();
    }
  }

  /** The invariant, read in one critical section: the count equals the bitmaps' popcount. */
  public boolean countMatchesBitmaps() {
    lock.lock();
    try {
      return dirtyPages == bitmapPopcount();
    } finally {
      lock.unlock();
    }
  }
}

package io.github.precopy.sim;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.DirtyTracker;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import java.util.Arrays;
import java.util.List;

/** Looks at a guest's memory and dirty logs from a test. */
final class GuestProbe {

  private GuestProbe() {}

  /** Takes and clears every block's dirty log, one bitmap per block (in block order). */
  static PageBitmap[] drainDirty(GuestMemory memory) {
    List<RamBlock> blocks = memory.blocks();
    PageBitmap[] dirty = new PageBitmap[blocks.size()];
    try (DirtyTracker tracker = memory.startDirtyTracking()) {
      for (RamBlock block : blocks) {
        dirty[block.id()] = new PageBitmap(block.pageCount());
        tracker.drainInto(block, dirty[block.id()]);
      }
    }
    return dirty;
  }

  static long cardinality(PageBitmap[] bitmaps) {
    long total = 0;
    for (PageBitmap bitmap : bitmaps) {
      total += bitmap.cardinality();
    }
    return total;
  }

  /** A copy of every block's contents. */
  static byte[][] snapshot(GuestMemory memory) {
    List<RamBlock> blocks = memory.blocks();
    byte[][] copy = new byte[blocks.size()][];
    for (RamBlock block : blocks) {
      copy[block.id()] = new byte[Math.toIntExact(block.usedLength())];
      for (long page = 0; page < block.pageCount(); page++) {
        block.readPage(page, copy[block.id()], (int) (page * GuestMemory.PAGE_SIZE));
      }
    }
    return copy;
  }

  /** The pages whose contents differ from {@code before}, one bitmap per block. */
  static PageBitmap[] changedPages(GuestMemory memory, byte[][] before) {
    byte[][] after = snapshot(memory);
    PageBitmap[] changed = new PageBitmap[after.length];
    for (RamBlock block : memory.blocks()) {
      int id = block.id();
      changed[id] = new PageBitmap(block.pageCount());
      for (int page = 0; page < block.pageCount(); page++) {
        int from = page * GuestMemory.PAGE_SIZE;
        int to = from + GuestMemory.PAGE_SIZE;
        if (Arrays.mismatch(before[id], from, to, after[id], from, to) >= 0) {
          changed[id].set(page);
        }
      }
    }
    return changed;
  }
}

package io.github.precopy.core;

import io.github.precopy.bitmap.PageBitmap;

/** The destination oracle: the source's memory. */
final class TestMemories {

  private TestMemories() {}

  /** Whether every page {@code guest} has in use holds the same bytes in {@code destination}. */
  static boolean inUsePagesEqual(Guest guest, GuestMemory destination) {
    for (RamBlock block : guest.memory().blocks()) {
      RamBlock copy = destination.blocks().get(block.id());
      PageBitmap inUse = guest.pagesInUse(block);
      for (long page = 0; page < block.pageCount(); page++) {
        if ((inUse == null || inUse.get(page)) && !block.samePage(page, copy)) {
          return false;
        }
      }
    }
    return true;
  }
}

package io.github.precopy.core;

import io.github.precopy.bitmap.PageBitmap;
import java.util.SplittableRandom;

/**
 * A guest whose memory only the test writes: pause and resume flip a flag, and the pages in use are
 * all pages except those the test marks free.
 */
final class StaticGuest implements Guest, AutoCloseable {

  private final GuestMemory memory;
  private final PageBitmap[] inUse;
  private volatile boolean running = true;

  StaticGuest(GuestMemory memory) {
    this.memory = memory;
    this.inUse = new PageBitmap[memory.blocks().size()];
    for (int i = 0; i < inUse.length; i++) {
      inUse[i] = new PageBitmap(memory.blocks().get(i).pageCount());
      inUse[i].setRange(0, inUse[i].size());
    }
  }

  /** A guest of one block whose pages hold seeded random bytes, every eighth page zero. */
  static StaticGuest filled(long bytes, long seed) {
    StaticGuest guest = new StaticGuest(GuestMemory.anonymous(bytes));
    SplittableRandom random = new SplittableRandom(seed);
    byte[] page = new byte[GuestMemory.PAGE_SIZE];
    for (long address = 0; address < bytes; address += GuestMemory.PAGE_SIZE) {
      if ((address >>> GuestMemory.PAGE_SHIFT) % 8 != 0) {
        random.nextBytes(page);
        guest.memory.write(address, page, 0, page.length);
      }
    }
    return guest;
  }

  void markFree(long firstPage, long endPage) {
    inUse[0].clearRange(firstPage, endPage);
  }

  void markInUseAndWrite(long page, byte value) {
    inUse[0].set(page);
    memory.fill(page << GuestMemory.PAGE_SHIFT, GuestMemory.PAGE_SIZE, value);
  }

  @Override
  public GuestMemory memory() {
    return memory;
  }

  @Override
  public void pause() {
    running = false;
  }

  @Override
  public void resume() {
    running = true;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public PageBitmap pagesInUse(RamBlock block) {
    return inUse[block.id()];
  }

  @Override
  public void close() {
    memory.close();
  }
}

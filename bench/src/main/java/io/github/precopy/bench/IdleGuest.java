package io.github.precopy.bench;

import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import java.util.SplittableRandom;

/** A guest whose memory nothing writes during the migration; pause is a flag. */
final class IdleGuest implements Guest {
  private final GuestMemory memory;
  private volatile boolean running = true;

  IdleGuest(GuestMemory memory) {
    this.memory = memory;
  }

  /**
   * Memory of {@code bytes} whose every page holds random bytes from {@code seed}, never all zero:
   * every page is a data page.
   */
  static GuestMemory randomData(long bytes, long seed) {
    GuestMemory memory = GuestMemory.anonymous(bytes);
    SplittableRandom random = new SplittableRandom(seed);
    byte[] page = new byte[GuestMemory.PAGE_SIZE];
    for (long address = 0; address < bytes; address += page.length) {
      random.nextBytes(page);
      page[0] |= 1;
      memory.write(address, page, 0, page.length);
    }
    return memory;
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
}

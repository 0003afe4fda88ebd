package io.github.precopy.bench;

import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;

/** A guest whose memory nothing writes during the migration; pause is a flag. */
final class IdleGuest implements Guest {
  private final GuestMemory memory;
  private volatile boolean running = true;

  IdleGuest(GuestMemory memory) {
    this.memory = memory;
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

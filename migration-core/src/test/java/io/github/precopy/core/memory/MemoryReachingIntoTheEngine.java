package io.github.precopy.core.memory;

import io.github.precopy.core.engine.RamState;

/** A violation for the architecture test: guest memory, the bottom layer, using the engine. */
public final class MemoryReachingIntoTheEngine {

  private MemoryReachingIntoTheEngine() {}

  static long dirtyPages(RamState ram) {
    return ram.dirtyPages();
  }
}

package io.github.precopy.sim.balloon;

import io.github.precopy.core.memory.GuestMemory;
import java.util.Arrays;

/**
 * Guest memory that holds data before the guest boots, as the RAM of a guest that has been up for a
 * while: its free pages are not zero, so sending one costs a whole page.
 */
final class OldData {

  private static final int CHUNK = 1 << 20;

  private OldData() {}

  /** One anonymous RAM block of {@code bytes}, every byte written. */
  static GuestMemory anonymousMemory(long bytes) {
    GuestMemory memory = GuestMemory.anonymous(bytes);
    write(memory, 0, bytes);
    return memory;
  }

  /** Writes non-zero bytes over {@code [address, address + bytes)}, inside one RAM block. */
  static void write(GuestMemory memory, long address, long bytes) {
    byte[] chunk = new byte[CHUNK];
    Arrays.fill(chunk, (byte) 0x5A);
    for (long done = 0; done < bytes; done += CHUNK) {
      memory.write(address + done, chunk, 0, (int) Math.min(CHUNK, bytes - done));
    }
  }
}

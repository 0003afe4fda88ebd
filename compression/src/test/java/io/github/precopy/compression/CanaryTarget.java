package io.github.precopy.compression;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;

/**
 * A target whose room lies between canary regions of a larger buffer: bytes before its position and
 * after its limit must never change.
 */
final class CanaryTarget {
  static final int CANARY = 37;
  private static final byte MARK = (byte) 0xA5;

  final ByteBuffer buffer;
  private final int room;

  CanaryTarget(int room, boolean direct) {
    this.room = room;
    int capacity = CANARY + room + CANARY;
    buffer = direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
    for (int i = 0; i < capacity; i++) {
      buffer.put(i, MARK);
    }
    buffer.position(CANARY).limit(CANARY + room);
  }

  /** The canaries are intact and the position stayed within the room. */
  void assertIntact() {
    ByteBuffer all = buffer.duplicate().clear(); // absolute reads are bounded by the limit
    for (int i = 0; i < CANARY; i++) {
      assertThat(all.get(i)).as("canary before the target at %d", i).isEqualTo(MARK);
      assertThat(all.get(CANARY + room + i)).as("canary after the limit at +%d", i).isEqualTo(MARK);
    }
    assertThat(buffer.limit()).isEqualTo(CANARY + room);
    assertThat(buffer.position()).isBetween(CANARY, CANARY + room);
  }

  /** The bytes written, from the start of the room to the position. */
  byte[] written() {
    byte[] bytes = new byte[buffer.position() - CANARY];
    buffer.duplicate().position(CANARY).get(bytes);
    return bytes;
  }
}

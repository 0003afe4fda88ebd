package io.github.precopy.core.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.precopy.bitmap.PageBitmap;
import org.junit.jupiter.api.Test;

/** Preallocation, and guest RAM on transparent huge pages (JDK 22+). */
final class MemoryBackingTest {

  private static final int PAGE = GuestMemory.PAGE_SIZE;

  @Test
  void preallocationMakesEveryPageResidentAndKeepsWhatWasWritten() {
    try (GuestMemory memory = GuestMemory.anonymous(64L * PAGE)) {
      RamBlock block = memory.blocks().get(0);
      memory.fill(3L * PAGE, PAGE, (byte) 0x5A);
      assertThat(block.isWritten(4)).isFalse();

      assertThat(memory.preallocate()).isSameAs(memory);

      for (long page = 0; page < block.pageCount(); page++) {
        assertThat(block.isWritten(page)).as("page %d resident", page).isTrue();
        assertThat(block.isZeroPage(page)).as("page %d", page).isEqualTo(page != 3);
      }
      byte[] bytes = new byte[PAGE];
      memory.read(3L * PAGE, bytes, 0, PAGE);
      assertThat(bytes).containsOnly((byte) 0x5A);
    }
  }

  @Test
  void preallocationIsNotAGuestWrite() {
    try (GuestMemory memory = GuestMemory.anonymous(16L * PAGE);
        DirtyTracker tracker = memory.startDirtyTracking()) {
      memory.preallocate();

      assertThat(tracker.drainInto(memory.blocks().get(0), new PageBitmap(16))).isZero();
    }
  }

  @Test
  void hugePagesBeforeJdk22SayWhyInOneLine() {
    assumeTrue(Runtime.version().feature() < 22, "a JDK before 22");
    String reason =
        "transparent huge pages need JDK 22 or later (the foreign function API); this is JDK "
            + Runtime.version().feature();

    assertThat(GuestMemory.Builder.transparentHugePagesUnavailableReason()).hasValue(reason);
    assertThatThrownBy(
            () ->
                GuestMemory.builder()
                    .transparentHugePages()
                    .anonymousBlock("pc.ram", 0, 16L * PAGE)
                    .build())
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessage(reason);
  }

  @Test
  void memoryOnHugePagesIsWrittenReadTrackedAndPreallocated() {
    assumeTrue(Runtime.version().feature() >= 22, "huge pages need JDK 22");
    assertThat(GuestMemory.Builder.transparentHugePagesUnavailableReason()).isEmpty();
    try (GuestMemory memory =
        GuestMemory.builder()
            .transparentHugePages()
            .anonymousBlock("pc.ram", 0, 8L << 20)
            .anonymousBlock("vga.vram", 1L << 30, 2L << 20)
            .build()) {
      RamBlock ram = memory.block("pc.ram");
      assertThat(ram.isZeroPage(100)).isTrue();
      try (DirtyTracker tracker = memory.startDirtyTracking(DirtyTracking.KERNEL)) {
        memory.writeLong(100L * PAGE + 8, 77);
        PageBitmap dirty = new PageBitmap(ram.pageCount());
        assertThat(tracker.drainInto(ram, dirty)).isEqualTo(1);
        assertThat(dirty.get(100)).isTrue();
      }
      memory.preallocate();
      assertThat(memory.readLong(100L * PAGE + 8)).isEqualTo(77);
      assertThat(memory.block("vga.vram").isWritten(0)).isTrue();
    }
  }
}

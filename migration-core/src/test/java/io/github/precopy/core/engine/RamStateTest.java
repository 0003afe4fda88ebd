package io.github.precopy.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.memory.DirtyTracker;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

final class RamStateTest {

  private static final int PAGE = GuestMemory.PAGE_SIZE;

  // Two adjacent blocks (a hint may run from one into the next) and one after a hole.
  private final GuestMemory memory =
      GuestMemory.builder()
          .anonymousBlock("low", 0, 64L * PAGE)
          .anonymousBlock("high", 64L * PAGE, 32L * PAGE)
          .anonymousBlock("far", 1L << 30, 16L * PAGE)
          .build();
  private final DirtyTracker tracker = memory.startDirtyTracking();
  private final RamState ram = new RamState(memory, tracker);

  @AfterEach
  void closeMemory() {
    tracker.close();
    memory.close();
  }

  @Test
  void ignoresHintsUntilAMigrationAcceptsThem() {
    ram.markAllDirty();

    assertThat(ram.freePageHint(0, 8L * PAGE)).isZero();
    assertThat(ram.dirtyPages()).isEqualTo(112);
  }

  @Test
  void hintReturnsOnlyThePagesItTrulyCleared() {
    ram.markAllDirty();
    ram.acceptHints(true);

    assertThat(ram.freePageHint(4L * PAGE, 8L * PAGE)).isEqualTo(8);
    assertThat(ram.freePageHint(0, 16L * PAGE)).isEqualTo(8);
    assertThat(ram.dirtyPages()).isEqualTo(112 - 16).isEqualTo(ram.bitmapPopcount());
    assertThat(ram.hintedPages()).isEqualTo(16);
  }

  @Test
  void hintContinuesIntoTheAdjacentBlockAndStopsAtAHole() {
    ram.markAllDirty();
    ram.acceptHints(true);

    // From page 60 of "low" across "high" (32 pages) into the hole after it.
    long cleared = ram.freePageHint(60L * PAGE, 1L << 30);

    assertThat(cleared).isEqualTo(4 + 32);
    assertThat(ram.dirtyPages()).isEqualTo(60 + 16).isEqualTo(ram.bitmapPopcount());
  }

  @Test
  void hintOutsideGuestRamIsIgnored() {
    ram.markAllDirty();
    ram.acceptHints(true);

    assertThat(ram.freePageHint(200L * PAGE, 4L * PAGE)).isZero();
    assertThat(ram.freePageHint(-PAGE, 4L * PAGE)).isZero();
    assertThat(ram.freePageHint(Long.MAX_VALUE - PAGE, Long.MAX_VALUE)).isZero();
    assertThat(ram.freePageHint(0, -1)).isZero();
    assertThat(ram.dirtyPages()).isEqualTo(112);
  }

  @Test
  void partlyCoveredPagesAreNotCleared() {
    ram.markAllDirty();
    ram.acceptHints(true);

    // [page 2 + 100 bytes, page 5 + 100 bytes) covers pages 3 and 4 only.
    assertThat(ram.freePageHint(2L * PAGE + 100, 3L * PAGE)).isEqualTo(2);
    assertThat(ram.freePageHint(10L * PAGE, PAGE - 1)).isZero();
    assertThat(ram.dirtyPages()).isEqualTo(110);
  }

  @Test
  void takesDirtyPagesInBlockAndPageOrderAndWraps() {
    memory.write(5L * PAGE, new byte[] {1}, 0, 1);
    memory.write(70L * PAGE, new byte[] {1}, 0, 1);
    memory.write((1L << 30) + 3L * PAGE, new byte[] {1}, 0, 1);
    ram.sync();
    int[] blocks = new int[2];
    long[] pages = new long[2];

    assertThat(ram.takeDirtyPages(blocks, pages, 2)).isEqualTo(2);
    assertThat(blocks).containsExactly(0, 1);
    assertThat(pages).containsExactly(5, 6);

    memory.write(PAGE, new byte[] {1}, 0, 1);
    ram.sync();
    assertThat(ram.takeDirtyPages(blocks, pages, 2)).isEqualTo(2);
    assertThat(blocks).containsExactly(2, 0);
    assertThat(pages).containsExactly(3, 1);
    assertThat(ram.takeDirtyPages(blocks, pages, 2)).isZero();
    assertThat(ram.dirtyPages()).isZero();
  }

  @ParameterizedTest(name = "{0} dirty tracking")
  @MethodSource("io.github.precopy.core.testing.TestMemories#dirtyTrackings")
  void syncCountsOnlyNewlyDirtyPages(String tracking) {
    tracker.close();
    try (DirtyTracker chosen = memory.startDirtyTracking(tracking)) {
      RamState ram = new RamState(memory, chosen);
      memory.fill(0, 3L * PAGE, (byte) 7);
      assertThat(ram.sync()).isEqualTo(3);
      memory.fill(PAGE, 3L * PAGE, (byte) 7);
      assertThat(ram.sync()).isEqualTo(1);
      assertThat(ram.dirtyPages()).isEqualTo(4).isEqualTo(ram.bitmapPopcount());
    }
  }

  @ParameterizedTest(name = "{0} dirty tracking")
  @MethodSource("io.github.precopy.core.testing.TestMemories#dirtyTrackings")
  void counterEqualsBitmapPopcountUnderRandomOperations(String tracking) {
    tracker.close();
    try (DirtyTracker chosen = memory.startDirtyTracking(tracking)) {
      counterEqualsBitmapPopcountUnderRandomOperations(new RamState(memory, chosen));
    }
  }

  private void counterEqualsBitmapPopcountUnderRandomOperations(RamState ram) {
    long seed = Long.getLong("precopy.seed", System.nanoTime());
    System.out.println("RamStateTest seed=" + seed);
    SplittableRandom random = new SplittableRandom(seed);
    ram.acceptHints(true);
    int[] blocks = new int[16];
    long[] pages = new long[16];
    long totalPages = memory.totalPages();
    for (int step = 0; step < 20_000; step++) {
      switch (random.nextInt(4)) {
        case 0 -> {
          long page = random.nextLong(totalPages);
          long address = addressOf(page);
          memory.write(address, new byte[] {(byte) step}, 0, 1);
        }
        case 1 -> ram.sync();
        case 2 -> {
          long first = random.nextLong(totalPages);
          long length = random.nextLong(1, 40) * PAGE;
          ram.freePageHint(addressOf(first), length);
        }
        default -> ram.takeDirtyPages(blocks, pages, 1 + random.nextInt(16));
      }
      assertThat(ram.dirtyPages())
          .as("seed %d step %d", seed, step)
          .isEqualTo(ram.bitmapPopcount());
    }
  }

  private long addressOf(long page) {
    for (RamBlock block : memory.blocks()) {
      if (page < block.pageCount()) {
        return block.guestAddress() + (page << GuestMemory.PAGE_SHIFT);
      }
      page -= block.pageCount();
    }
    throw new AssertionError("page beyond memory");
  }
}

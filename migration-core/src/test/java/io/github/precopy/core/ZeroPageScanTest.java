package io.github.precopy.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.testing.TestMemories;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
final class ZeroPageScanTest {

  private static final int PAGE = GuestMemory.PAGE_SIZE;
  private static final int BATCH = 256;

  /** The helper's name: the scanning thread's, then "-zero-scan". */
  private static final String HELPER = Thread.currentThread().getName() + "-zero-scan";

  @Test
  void findsExactlyTheZeroPagesWhetherOrNotTheHelperSplitsTheBatch() {
    long seed = TestMemories.seed("findsExactlyTheZeroPagesWhetherOrNotTheHelperSplitsTheBatch");
    SplittableRandom random = new SplittableRandom(seed);
    int pagesInMemory = 4096;
    try (GuestMemory memory =
            GuestMemory.builder()
                .anonymousBlock("low", 0, 2048L * PAGE)
                .anonymousBlock("high", 1L << 30, 2048L * PAGE)
                .build();
        ZeroPageScan scan = new ZeroPageScan(memory.blocks())) {
      // Resident zero pages, data pages (one non-zero byte anywhere), and pages never written.
      for (int page = 0; page < pagesInMemory; page++) {
        long address = (page < 2048 ? 0 : 1L << 30) + (long) (page % 2048) * PAGE;
        int kind = random.nextInt(10);
        if (kind < 7) {
          memory.fill(address, PAGE, (byte) 0);
        } else if (kind < 9) {
          memory.write(address + random.nextInt(PAGE), new byte[] {1}, 0, 1);
        }
      }
      int[] blocks = new int[BATCH];
      long[] pages = new long[BATCH];
      boolean[] zero = new boolean[BATCH];
      for (int batch = 0; batch < 40; batch++) {
        int count = 1 + random.nextInt(BATCH);
        for (int i = 0; i < count; i++) {
          blocks[i] = random.nextInt(2);
          pages[i] = random.nextInt(2048);
        }

        scan.scan(blocks, pages, count, zero);

        for (int i = 0; i < count; i++) {
          RamBlock block = memory.blocks().get(blocks[i]);
          assertThat(zero[i])
              .as("seed %d batch %d page %d of %s", seed, batch, pages[i], block.name())
              .isEqualTo(block.isZeroPage(pages[i]));
        }
      }
      assertThat(helperThreads()).as("batches of resident zero pages were split").isOne();
    }
    assertThat(helpersEnded()).as("close stops the helper").isTrue();
  }

  @Test
  void batchesOfDataPagesAreNotSplit() {
    try (GuestMemory memory = GuestMemory.anonymous(512L * PAGE);
        ZeroPageScan scan = new ZeroPageScan(memory.blocks())) {
      memory.fill(0, 512L * PAGE, (byte) 7);
      int[] blocks = new int[BATCH];
      long[] pages = new long[BATCH];
      boolean[] zero = new boolean[BATCH];
      for (int batch = 0; batch < 2; batch++) {
        for (int i = 0; i < BATCH; i++) {
          pages[i] = batch * BATCH + i;
        }
        scan.scan(blocks, pages, BATCH, zero);
        assertThat(zero).containsOnly(false);
      }
      assertThat(helperThreads()).isZero();
    }
  }

  private static long helperThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().equals(HELPER) && thread.isAlive())
        .count();
  }

  /** Waits, bounded, for every helper to end. */
  private static boolean helpersEnded() {
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.getName().equals(HELPER)) {
        try {
          thread.join(10_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
        if (thread.isAlive()) {
          return false;
        }
      }
    }
    return true;
  }
}

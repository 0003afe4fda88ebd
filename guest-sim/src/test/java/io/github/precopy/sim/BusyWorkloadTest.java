package io.github.precopy.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.testing.TestMemories;
import io.github.precopy.spi.testing.Await;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The {@code busy} workload: the reference guest's {@code churn busy}. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
final class BusyWorkloadTest {

  private static final long MEMORY = 64L << 20;
  private static final long MIB_PAGES = (1L << 20) / GuestMemory.PAGE_SIZE;

  private static SimulatedGuest guest(String options, long seed) {
    return SimulatedGuest.builder()
        .memorySize(MEMORY)
        .vcpus(2)
        .seed(seed)
        .workload("busy", WorkloadOptions.parse(options))
        .build();
  }

  @Test
  void theVcpusHoldTheirWorkingSetAndFreeOldChunksWithOldDataInThem() {
    long seed = TestMemories.seed("BusyWorkloadTest churn");
    try (SimulatedGuest guest =
        guest("profile=fresh,working-set=16m,min-chunk=1m,max-chunk=4m,dirty-rate=256m", seed)) {
      guest.start();
      Await.until(() -> guest.workDone() >= 4 * (16L << 20), "busy wrote its working set 4 times");
      guest.pause();

      BuddyAllocator allocator = guest.allocator();
      long total = allocator.totalPages();
      long held = total - allocator.freePages() - GuestBoot.kernelPages(total);
      long perVcpuSlack = 4 * MIB_PAGES + BusyWorkload.PCP_HIGH + 8 * MIB_PAGES / 512;
      assertThat(held)
          .as("pages the churn holds (seed %d)", seed)
          .isBetween(16 * MIB_PAGES - 2 * 4 * MIB_PAGES, 16 * MIB_PAGES + 2 * perVcpuSlack);
      // A new chunk takes the freed pages first, so at one instant none may be left free; look
      // again after more churn until some are (bounded).
      long staleFree = staleFreePages(guest);
      for (int look = 1; staleFree == 0 && look < 20; look++) {
        long done = guest.workDone();
        guest.resume();
        Await.until(() -> guest.workDone() >= done + (1L << 20), "busy wrote another MiB");
        guest.pause();
        staleFree = staleFreePages(guest);
      }
      assertThat(staleFree).as("freed chunk pages keep old data (seed %d)", seed).isPositive();
      assertThat(guest.failure()).isEmpty();
    }
  }

  private static long staleFreePages(SimulatedGuest guest) {
    RamBlock block = guest.memory().blocks().get(0);
    long stale = 0;
    for (long page = 0; page < block.pageCount(); page++) {
      if (!guest.allocator().isAllocated(page * GuestMemory.PAGE_SIZE) && !block.isZeroPage(page)) {
        stale++;
      }
    }
    return stale;
  }

  @Test
  void chunkSizesAreValidated() {
    assertThatThrownBy(
            () -> Workloads.create("busy", WorkloadOptions.parse("min-chunk=8m,max-chunk=4m")))
        .hasMessage("busy: min-chunk (8m) exceeds max-chunk (4m)");
    assertThatThrownBy(() -> Workloads.create("busy", WorkloadOptions.parse("max-chunk=1536k")))
        .hasMessage("busy: option max-chunk must be a whole number of MiB, e.g. 2m");
  }

  @Test
  void aWorkingSetThatDoesNotFitBesideTheKernelFailsTheBoot() {
    try (SimulatedGuest guest = guest("working-set=63m", 1)) {
      assertThatThrownBy(guest::boot)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("working-set (16128 pages) plus the kernel's footprint");
    }
  }
}

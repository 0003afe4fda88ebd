package io.github.precopy.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.testing.TestMemories;
import io.github.precopy.spi.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
final class SparseWritesWorkloadTest {

  private static final long MEMORY = 64L << 20;
  private static final int PAGE = GuestMemory.PAGE_SIZE;

  private static SimulatedGuest guest(String options, long memory, int vcpus, long seed) {
    return SimulatedGuest.builder()
        .memorySize(memory)
        .vcpus(vcpus)
        .seed(seed)
        .workload("sparse-writes", WorkloadOptions.parse(options))
        .build();
  }

  @Test
  void eachPassChangesOneByteInEachQuarterOfEveryBufferPageAndNothingElse() throws Exception {
    long seed = TestMemories.seed("SparseWritesWorkloadTest passes");
    long bufferPages = 256;
    // 1 MiB swept at 4 MiB/s: a few passes before the pause, far from 256 (a byte's wrap).
    try (SimulatedGuest guest = guest("buffer=1m,dirty-rate=4m", MEMORY, 2, seed)) {
      GuestMemory memory = guest.memory();
      guest.boot();
      GuestProbe.drainDirty(memory);
      byte[][] before = GuestProbe.snapshot(memory);
      long booted = guest.workDone();
      guest.start();
      long passes = 3;
      Await.until(
          () -> guest.workDone() - booted >= passes * bufferPages * PAGE,
          "sparse-writes swept its buffer " + passes + " times");
      guest.pause();
      PageBitmap[] dirty = GuestProbe.drainDirty(memory);
      PageBitmap[] changed = GuestProbe.changedPages(memory, before);
      byte[][] after = GuestProbe.snapshot(memory);
      long changedPages = 0;
      for (RamBlock block : memory.blocks()) {
        int id = block.id();
        assertThat(bits(dirty[id])).as("dirty pages, seed %d", seed).isEqualTo(bits(changed[id]));
        PageBitmap pages = changed[id];
        for (long page = pages.nextSetBit(0); page >= 0; page = pages.nextSetBit(page + 1)) {
          changedPages++;
          int base = (int) page * PAGE;
          int increments = (after[id][base] - before[id][base]) & 0xff;
          assertThat(increments).as("increments of page %d, seed %d", page, seed).isBetween(1, 64);
          for (int offset = 0; offset < PAGE; offset++) {
            int delta = (after[id][base + offset] - before[id][base + offset]) & 0xff;
            assertThat(delta)
                .as("byte %d of page %d, seed %d", offset, page, seed)
                .isEqualTo(offset % (PAGE / 4) == 0 ? increments : 0);
          }
        }
      }
      assertThat(changedPages).as("pages changed, seed %d", seed).isEqualTo(bufferPages);
      assertThat(guest.failure()).isEmpty();
    }
  }

  @Test
  void theBufferIsSplitBetweenTheVcpusAndAVcpuWithoutPagesIdles() throws Exception {
    long seed = TestMemories.seed("SparseWritesWorkloadTest one page");
    try (SimulatedGuest guest = guest("buffer=4k,dirty-rate=64k", MEMORY, 2, seed)) {
      GuestMemory memory = guest.memory();
      guest.boot();
      GuestProbe.drainDirty(memory);
      long booted = guest.workDone();
      guest.start();
      Await.until(() -> guest.workDone() - booted >= 4L * PAGE, "the page was updated 4 times");
      guest.pause();
      assertThat(GuestProbe.cardinality(GuestProbe.drainDirty(memory))).isEqualTo(1);
      assertThat(guest.failure()).isEmpty();
    }
  }

  @Test
  void theBufferOptionIsValidated() {
    assertThat(Workloads.options("sparse-writes"))
        .extracting(WorkloadOption::name, WorkloadOption::defaultValue)
        .containsExactly(
            tuple("profile", "used"),
            tuple("touched", "75%"),
            tuple("in-use", "0%"),
            tuple("init-on-alloc", "off"),
            tuple("content", "random"),
            tuple("buffer", "64m"),
            tuple("dirty-rate", "as fast as the vCPUs run"));
    for (String size : new String[] {"0", "5000", "2k"}) {
      assertThatThrownBy(
              () -> Workloads.create("sparse-writes", WorkloadOptions.parse("buffer=" + size)))
          .hasMessage(
              "workload sparse-writes: option buffer="
                  + size
                  + " is not a whole number of 4k pages, at least one");
    }
    assertThatThrownBy(() -> Workloads.create("sparse-writes", WorkloadOptions.parse("buffer=big")))
        .hasMessageStartingWith("workload sparse-writes: option buffer=big is not a size: ");
    assertThatThrownBy(
            () -> Workloads.create("sparse-writes", WorkloadOptions.parse("dirty-rate=0")))
        .hasMessageContaining("dirty-rate=0 is not a positive number of bytes per second");
  }

  @Test
  void aBufferThatDoesNotFitBesideTheKernelFailsTheBoot() {
    try (SimulatedGuest guest = guest("buffer=60m", MEMORY, 1, 1)) {
      assertThatThrownBy(guest::boot)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "sparse-writes: buffer 60m (15360 pages) plus the kernel's footprint and in-use (2048"
                  + " pages) exceed the guest's 16384 pages");
    }
    try (SimulatedGuest guest = guest("buffer=32m", MEMORY, 1, 1)) {
      guest.boot();
      assertThat(guest.allocator().freePages()).isLessThan(guest.allocator().totalPages() / 2);
    }
  }

  private static String bits(PageBitmap bitmap) {
    StringBuilder text = new StringBuilder();
    for (long i = bitmap.nextSetBit(0); i >= 0; i = bitmap.nextSetBit(i + 1)) {
      text.append(i).append(' ');
    }
    return text.toString();
  }
}

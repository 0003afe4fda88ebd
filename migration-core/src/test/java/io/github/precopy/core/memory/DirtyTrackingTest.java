package io.github.precopy.core.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.testing.TestMemories;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Software and kernel dirty tracking, and memory the application maps and writes itself. */
final class DirtyTrackingTest {

  private static final int PAGE = GuestMemory.PAGE_SIZE;

  @Test
  void softwareTrackingRefusesAnApplicationMappedBlockNamingIt() throws IOException {
    try (GuestMemory memory =
        GuestMemory.builder().applicationBlock("table", 0, List.of(sharedMemory(16))).build()) {
      assertThatThrownBy(memory::startDirtyTracking)
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessage(
              "RAM block table is written by the application, which the software dirty log cannot"
                  + " see: track it with dirty tracking kernel");
      assertThat(memory.blocks().get(0).isApplicationMapped()).isTrue();
    }
  }

  @Test
  void anApplicationBlockHoldsWhatTheApplicationWroteAndClosingLeavesItMapped() throws IOException {
    ByteBuffer table = sharedMemory(8).order(ByteOrder.nativeOrder());
    table.putLong(3 * PAGE + 16, 0x1234_5678_9abcL);
    GuestMemory memory =
        GuestMemory.builder().applicationBlock("table", 1L << 20, List.of(table)).build();
    RamBlock block = memory.block("table");

    assertThat(block.usedLength()).isEqualTo(8L * PAGE);
    assertThat(memory.readLong((1L << 20) + 3 * PAGE + 16)).isEqualTo(0x1234_5678_9abcL);
    assertThat(block.isZeroPage(3)).isFalse();
    assertThat(block.isZeroPage(4)).isTrue();
    memory.close();

    table.putLong(0, 7);
    assertThat(table.getLong(0)).isEqualTo(7);
  }

  @Test
  void applicationRegionsMustBeWritableDirectWholePages() throws IOException {
    assertThatThrownBy(
            () ->
                GuestMemory.builder().applicationBlock("a", 0, List.of(ByteBuffer.allocate(PAGE))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("RAM block a: region 0 must be a writable direct buffer");
    assertThatThrownBy(
            () ->
                GuestMemory.builder()
                    .applicationBlock("a", 0, List.of(sharedMemory(1).asReadOnlyBuffer())))
        .hasMessage("RAM block a: region 0 must be a writable direct buffer");
    assertThatThrownBy(
            () ->
                GuestMemory.builder()
                    .applicationBlock("a", 0, List.of(ByteBuffer.allocateDirect(PAGE + 1))))
        .hasMessage("RAM block a: region 0 holds 4097 bytes, not a positive multiple of 4096");
    assertThatThrownBy(
            () ->
                GuestMemory.builder()
                    .applicationBlock("a", 0, List.of(sharedMemory(1), sharedMemory(1))))
        .hasMessage(
            "RAM block a: region 0 holds 4096 bytes: every region but the last must be whole GiB");
    assertThatThrownBy(() -> GuestMemory.builder().applicationBlock("a", 0, List.of()).build())
        .hasMessageContaining("must be a positive multiple of 4096");
  }

  @Test
  void anUnknownTrackingIsRefusedWithTheNamesAvailable() {
    try (GuestMemory memory = GuestMemory.anonymous(4L * PAGE)) {
      assertThatThrownBy(() -> memory.startDirtyTracking("soft-dirty"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("unknown dirty tracking 'soft-dirty'; available: software");
      assertThat(DirtyTracking.unavailableReason("soft-dirty")).isPresent();
      memory.startDirtyTracking().close();
    }
  }

  @Test
  void kernelTrackingBeforeJdk22SaysSoInOneLine() {
    assumeTrue(Runtime.version().feature() < 22, "a JDK before 22");
    try (GuestMemory memory = GuestMemory.anonymous(4L * PAGE)) {
      assertThatThrownBy(() -> memory.startDirtyTracking(DirtyTracking.KERNEL))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessage(
              "kernel dirty tracking needs JDK 22 or later (the foreign function API); this is JDK "
                  + Runtime.version().feature());
      assertThat(DirtyTracking.unavailableReason(DirtyTracking.KERNEL)).isPresent();
      assertThat(DirtyTracking.names()).containsExactly(DirtyTracking.SOFTWARE);
      memory.startDirtyTracking().close();
    }
  }

  @Test
  void aPlainStoreBetweenTwoDrainsArrivesAndUnwrittenPagesDoNot() throws IOException {
    assumeKernelTracking();
    long seed = TestMemories.seed("aPlainStoreBetweenTwoDrainsArrivesAndUnwrittenPagesDoNot");
    SplittableRandom random = new SplittableRandom(seed);
    MappedByteBuffer table = sharedMemory(256);
    try (GuestMemory memory =
            GuestMemory.builder().applicationBlock("table", 0, List.of(table)).build();
        DirtyTracker tracker = memory.startDirtyTracking(DirtyTracking.KERNEL)) {
      RamBlock block = memory.block("table");
      assertThat(tracker.tracking()).isEqualTo(DirtyTracking.KERNEL);
      assertThat(drain(tracker, block).cardinality()).as("nothing written yet").isZero();

      table.putLong(5 * PAGE + 8, 42);
      assertThat(drain(tracker, block)).isEqualTo(pages(5));
      assertThat(drain(tracker, block).cardinality()).as("taken by the previous drain").isZero();

      for (int round = 0; round < 5; round++) {
        BitSet written = new BitSet();
        for (int i = random.nextInt(40); i > 0; i--) {
          int page = random.nextInt(256);
          table.put(page * PAGE + random.nextInt(PAGE), (byte) 1);
          written.set(page);
        }
        assertThat(drain(tracker, block)).as("seed %d round %d", seed, round).isEqualTo(written);
      }
    }
  }

  @Test
  void writesThroughGuestMemoryBypassTheSoftwareLogWhileTheKernelTracks() {
    assumeKernelTracking();
    try (GuestMemory memory = GuestMemory.anonymous(16L * PAGE)) {
      RamBlock block = memory.blocks().get(0);
      try (DirtyTracker kernel = memory.startDirtyTracking(DirtyTracking.KERNEL)) {
        memory.fill(3L * PAGE, PAGE, (byte) 9);
        memory.writeLong(7L * PAGE, 1);
        assertThat(drain(kernel, block)).isEqualTo(pages(3, 7));
      }
      try (DirtyTracker software = memory.startDirtyTracking()) {
        assertThat(drain(software, block).cardinality()).as("the log was bypassed").isZero();
        memory.writeLong(4L * PAGE, 1);
        assertThat(drain(software, block)).as("the log is back").isEqualTo(pages(4));
      }
    }
  }

  @Test
  void memoryTheKernelCannotTrackIsRefusedAndLeftUntracked(@TempDir Path dir) {
    assumeKernelTracking();
    try (GuestMemory memory =
        GuestMemory.builder()
            .anonymousBlock("pc.ram", 0, 4L * PAGE)
            .fileBackedBlock("disk", 1L << 20, 4L * PAGE, dir.resolve("disk.ram"))
            .build()) {
      assertThatThrownBy(() -> memory.startDirtyTracking(DirtyTracking.KERNEL))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageStartingWith("kernel dirty tracking")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
      try (DirtyTracker software = memory.startDirtyTracking()) {
        memory.writeLong(0, 1);
        assertThat(drain(software, memory.blocks().get(0))).isEqualTo(pages(0));
      }
    }
  }

  /** Kernel tracking runs on JDK 22 and later, where the build puts it on the class path. */
  private static void assumeKernelTracking() {
    assumeTrue(Runtime.version().feature() >= 22, "kernel tracking needs JDK 22");
    assertThat(DirtyTracking.unavailableReason(DirtyTracking.KERNEL)).isEmpty();
  }

  private static BitSet drain(DirtyTracker tracker, RamBlock block) {
    PageBitmap bitmap = new PageBitmap(block.pageCount());
    long newlySet = tracker.drainInto(block, bitmap);
    BitSet pages = new BitSet();
    for (long page = bitmap.nextSetBit(0); page >= 0; page = bitmap.nextSetBit(page + 1)) {
      pages.set((int) page);
    }
    assertThat(newlySet).isEqualTo(pages.cardinality());
    return pages;
  }

  private static BitSet pages(int... pages) {
    BitSet set = new BitSet();
    for (int page : pages) {
      set.set(page);
    }
    return set;
  }

  /** {@code pages} of shared memory on {@code /dev/shm}, mapped by "the application". */
  private static MappedByteBuffer sharedMemory(int pages) throws IOException {
    Path file = Files.createTempFile(Path.of("/dev/shm"), "precopy-test-", ".ram");
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      return channel.map(FileChannel.MapMode.READ_WRITE, 0, (long) pages * PAGE);
    } finally {
      Files.delete(file);
    }
  }
}

package io.github.precopy.core.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.github.precopy.bitmap.PageBitmap;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class GuestMemoryTest {

  private static final int PAGE = GuestMemory.PAGE_SIZE;

  @Test
  void writesMarkEveryTouchedPageDirtyAndNothingElse() {
    try (GuestMemory memory = GuestMemory.anonymous(64L * PAGE)) {
      RamBlock block = memory.blocks().get(0);

      memory.write(3L * PAGE - 2, new byte[4], 0, 4);
      memory.fill(10L * PAGE, 2L * PAGE, (byte) 1);
      memory.writeLong(20L * PAGE + 8, 42);

      PageBitmap dirty = new PageBitmap(block.pageCount());
      try (DirtyTracker tracker = memory.startDirtyTracking()) {
        assertThat(tracker.drainInto(block, dirty)).isEqualTo(5);
      }
      for (long page : new long[] {2, 3, 10, 11, 20}) {
        assertThat(dirty.get(page)).as("page %d", page).isTrue();
      }
      assertThat(memory.readLong(20L * PAGE + 8)).isEqualTo(42);
    }
  }

  @Test
  void aDrainTakesThePagesWrittenSinceThePreviousDrain() {
    try (GuestMemory memory = GuestMemory.anonymous(8L * PAGE);
        DirtyTracker tracker = memory.startDirtyTracking()) {
      RamBlock block = memory.blocks().get(0);
      memory.fill(PAGE, PAGE, (byte) 1);
      PageBitmap first = new PageBitmap(block.pageCount());
      assertThat(tracker.drainInto(block, first)).isEqualTo(1);

      memory.fill(PAGE, 2L * PAGE, (byte) 2);
      PageBitmap second = new PageBitmap(block.pageCount());

      assertThat(tracker.drainInto(block, second)).isEqualTo(2);
      assertThat(second.get(1)).isTrue();
      assertThat(second.get(2)).isTrue();
      assertThat(tracker.drainInto(block, new PageBitmap(block.pageCount()))).isZero();
    }
  }

  @Test
  void wholePagesWrittenReadBackAndOthersStayZero() {
    try (GuestMemory memory = GuestMemory.anonymous(8L * PAGE)) {
      RamBlock block = memory.blocks().get(0);
      byte[] page = new byte[PAGE];
      page[17] = 9;

      memory.write(PAGE, page, 0, PAGE);
      memory.fill(2L * PAGE, PAGE, (byte) 3);

      byte[] read = new byte[PAGE];
      block.readPage(1, read, 0);
      assertThat(read).isEqualTo(page);
      assertThat(block.isZeroPage(1)).isFalse();
      assertThat(block.isZeroPage(3)).isTrue();
      block.readPage(2, read, 0);
      assertThat(read).containsOnly((byte) 3);
    }
  }

  @Test
  void aMemoryHasOneDirtyTrackerAtATime() {
    try (GuestMemory memory = GuestMemory.anonymous(8L * PAGE);
        GuestMemory other = GuestMemory.anonymous(8L * PAGE)) {
      DirtyTracker tracker = memory.startDirtyTracking();

      assertThatThrownBy(memory::startDirtyTracking)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already tracked");
      assertThatThrownBy(() -> tracker.drainInto(other.blocks().get(0), new PageBitmap(8)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("is not a block of this memory");
      assertThatThrownBy(() -> tracker.drainInto(memory.blocks().get(0), new PageBitmap(7)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("7 bits for 8 pages");
      tracker.close();
      assertThatThrownBy(() -> tracker.drainInto(memory.blocks().get(0), new PageBitmap(8)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("stopped");
      memory.startDirtyTracking().close();
    }
  }

  @Test
  void aMemoryWhoseDirtyLogIsTrackedRefusesToCloseAndStaysMapped() {
    try (GuestMemory memory = GuestMemory.anonymous(8 * 4096)) {
      DirtyTracker tracker = memory.startDirtyTracking();

      assertThatThrownBy(memory::close)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage(
              "guest memory is being migrated: cancel the migration and await its end before"
                  + " closing the memory");
      memory.writeLong(4096, 42);
      assertThat(memory.readLong(4096)).isEqualTo(42);
      tracker.close();
    }
  }

  @Test
  void findsTheBlockHoldingAnAddress() {
    try (GuestMemory memory =
        GuestMemory.builder()
            .anonymousBlock("high", 1L << 32, 4L * PAGE)
            .anonymousBlock("low", 0, 4L * PAGE)
            .build()) {
      assertThat(memory.blockAt(0).name()).isEqualTo("low");
      assertThat(memory.blockAt(4L * PAGE - 1).name()).isEqualTo("low");
      assertThat(memory.blockAt(4L * PAGE)).isNull();
      assertThat(memory.blockAt((1L << 32) + 5)).isSameAs(memory.block("high"));
      assertThat(memory.blockAt(-1)).isNull();
      assertThat(memory.blocks()).extracting(RamBlock::id).containsExactly(0, 1);
      assertThat(memory.totalBytes()).isEqualTo(8L * PAGE);
    }
  }

  @Test
  void fileBackedBlockKeepsItsContentsInTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("ram.img");
    try (GuestMemory memory =
        GuestMemory.builder().fileBackedBlock("pc.ram", 0, 4L * PAGE, file).build()) {
      memory.writeLong(PAGE, 0x1122334455667788L);
    }
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.nativeOrder());
    assertThat(bytes.capacity()).isEqualTo(4 * PAGE);
    assertThat(bytes.getLong(PAGE)).isEqualTo(0x1122334455667788L);
    try (GuestMemory reopened =
        GuestMemory.builder().fileBackedBlock("pc.ram", 0, 4L * PAGE, file).build()) {
      assertThat(reopened.readLong(PAGE)).isEqualTo(0x1122334455667788L);
    }
  }

  @Test
  void aFileBackedBlockStartsWithTheFilesContentsAsData(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("ram.img");
    byte[] contents = new byte[2 * PAGE];
    contents[PAGE + 5] = 1;
    Files.write(file, contents);
    try (GuestMemory memory =
        GuestMemory.builder().fileBackedBlock("pc.ram", 0, 2L * PAGE, file).build()) {
      RamBlock block = memory.blocks().get(0);

      assertThat(block.isZeroPage(0)).isTrue();
      assertThat(block.isZeroPage(1)).as("data put there before mapping").isFalse();
    }
  }

  @Test
  void zeroChecksAgreeWhetherOrNotAPageWasEverWritten() {
    try (GuestMemory source = GuestMemory.anonymous(4L * PAGE);
        GuestMemory destination = GuestMemory.anonymous(4L * PAGE)) {
      RamBlock from = source.blocks().get(0);
      RamBlock to = destination.blocks().get(0);
      source.fill(PAGE, PAGE, (byte) 0);
      source.fill(2L * PAGE, PAGE, (byte) 9);
      destination.fill(3L * PAGE, PAGE, (byte) 0);

      assertThat(from.isZeroPage(0)).as("never written").isTrue();
      assertThat(from.isZeroPage(1)).as("written with zeroes").isTrue();
      assertThat(from.isZeroPage(2)).isFalse();
      assertThat(from.samePage(0, to)).isTrue();
      assertThat(from.samePage(1, to)).isTrue();
      assertThat(from.samePage(2, to)).isFalse();
      assertThat(from.samePage(3, to)).isTrue();
    }
  }

  @Test
  void accessOutsideTheBlocksIsRefusedWithTheRange() {
    try (GuestMemory memory = GuestMemory.anonymous(4L * PAGE)) {
      assertThatThrownBy(() -> memory.write(4L * PAGE - 1, new byte[2], 0, 2))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessageContaining("[0x3fff, +2) is not inside one RAM block");
      assertThatThrownBy(() -> memory.fill(-8, 8, (byte) 0))
          .isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> memory.readLong(3)).hasMessageContaining("unaligned");
      assertThatThrownBy(() -> memory.blocks().get(0).readPage(4, new byte[PAGE], 0))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage("page 4 out of range [0, 4) of RAM block pc.ram");
    }
  }

  @Test
  void invalidLayoutsAreRefusedBeforeMapping() {
    assertThatThrownBy(() -> GuestMemory.builder().build())
        .hasMessage("guest memory needs at least one RAM block");
    assertThatThrownBy(() -> GuestMemory.anonymous(PAGE + 1))
        .hasMessageContaining("must be a positive multiple of 4096");
    assertThatThrownBy(
            () ->
                GuestMemory.builder()
                    .anonymousBlock("a", 0, 4L * PAGE)
                    .anonymousBlock("b", 2L * PAGE, 4L * PAGE)
                    .build())
        .hasMessage("RAM blocks a and b overlap");
    assertThatThrownBy(
            () ->
                GuestMemory.builder()
                    .anonymousBlock("a", 0, PAGE)
                    .anonymousBlock("a", 8L * PAGE, PAGE)
                    .build())
        .hasMessage("duplicate RAM block name a");
    assertThatThrownBy(() -> GuestMemory.builder().anonymousBlock("a", 100, PAGE).build())
        .hasMessageContaining("must be non-negative and page-aligned");
  }

  @Test
  void closedMemoryRefusesGuestAccess() {
    GuestMemory memory = GuestMemory.anonymous(PAGE);
    memory.close();
    memory.close();

    assertThatThrownBy(() -> memory.readLong(0)).hasMessage("guest memory is closed");
  }

  @Test
  void aMemoryLargerThanTheFreeSpaceWhereItIsMappedIsRefusedBeforeMapping() throws Exception {
    Path directory = anonymousDirectory();
    long free = Files.getFileStore(directory).getUsableSpace();
    long tooLarge = pages(free + Math.max(free, 1L << 30));

    assertThatThrownBy(() -> GuestMemory.anonymous(tooLarge))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageMatching(
            "cannot map guest memory: it needs [\\d.]+ [KMGTPE]iB in "
                + Pattern.quote(directory.toString())
                + ", which has [\\d.]+ [KMGTPE]iB free");
  }

  @Test
  void theBlocksOfOneMemoryAreCheckedTogether() throws Exception {
    Path directory = anonymousDirectory();
    long free = Files.getFileStore(directory).getUsableSpace();
    long each = pages(free / 10 * 6);

    assertThatThrownBy(
            () ->
                GuestMemory.builder()
                    .anonymousBlock("a", 0, each)
                    .anonymousBlock("b", each, each)
                    .build())
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageStartingWith("cannot map guest memory: it needs ")
        .hasMessageContaining(" in " + directory + ", which has ");
  }

  @Test
  void aFileBackedBlockNeedsRoomBesideItsFileForWhatTheFileDoesNotHoldYet(@TempDir Path dir)
      throws Exception {
    long free = Files.getFileStore(dir).getUsableSpace();
    Path file = dir.resolve("guest.ram");
    long tooLarge = pages(free + Math.max(free, 1L << 30));

    assertThatThrownBy(
            () -> GuestMemory.builder().fileBackedBlock("pc.ram", 0, tooLarge, file).build())
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageStartingWith("cannot map guest memory: it needs ")
        .hasMessageContaining(" in " + dir + ", which has ");
    Files.write(file, new byte[8 * PAGE]);
    try (GuestMemory memory =
        GuestMemory.builder().fileBackedBlock("pc.ram", 0, 8L * PAGE, file).build()) {
      assertThat(memory.totalBytes())
          .as("a file that holds the block needs nothing more")
          .isPositive();
    }
  }

  @Test
  void aFaultOfTheMappedMemoryIsRecognisedAndExplainedInOneLine(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("guest.ram");
    try (GuestMemory memory =
        GuestMemory.builder().fileBackedBlock("pc.ram", 1L << 20, 16L * PAGE, file).build()) {
      try (RandomAccessFile truncate = new RandomAccessFile(file.toFile(), "rw")) {
        truncate.setLength(0);
      }
      long address = (1L << 20) + 3L * PAGE + 8;

      // JDK 17 raises a fault in compiled code only when the thread next enters the VM.
      Throwable fault =
          catchThrowable(
              () -> {
                memory.writeLong(address, 42);
                GuestMemory.checkPendingFault();
              });

      assertThat(fault).isInstanceOf(InternalError.class);
      assertThat(GuestMemory.isMemoryFault(fault)).isTrue();
      assertThat(GuestMemory.isMemoryFault(new InternalError("something else"))).isFalse();
      assertThat(GuestMemory.isMemoryFault(new IllegalStateException("unsafe memory access")))
          .isFalse();
      assertThat(memory.describeFault(address))
          .matches(
              "memory fault at page 3 of RAM block pc\\.ram \\(mapped from "
                  + Pattern.quote(file.toString())
                  + ", [\\d.]+ [KMGTPE]iB free\\): the file system is full or the file was"
                  + " truncated");
    }
  }

  /** Where anonymous blocks are mapped, as GuestMemory chooses it. */
  private static Path anonymousDirectory() {
    Path shm = Path.of("/dev/shm");
    return Files.isDirectory(shm) && Files.isWritable(shm)
        ? shm
        : Path.of(System.getProperty("java.io.tmpdir"));
  }

  /** {@code bytes} rounded up to whole pages. */
  private static long pages(long bytes) {
    return (bytes + PAGE - 1) / PAGE * PAGE;
  }
}

package io.github.precopy.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.spi.WriteTracker;
import io.github.precopy.spi.WriteTrackingProvider;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(60)
final class KernelWriteTrackingTest {

  private static final int PAGE = 4096;

  private final KernelWriteTracking provider = new KernelWriteTracking();
  private final Arena arena = Arena.ofShared();
  private final List<WriteTracker> trackers = new ArrayList<>();

  /** The two kinds of memory the kernel write-protects. */
  enum Memory {
    /** Private anonymous memory, allocated (and zeroed, so populated) by an Arena. */
    ANONYMOUS,
    /** A file on /dev/shm mapped shared, never touched before tracking: unpopulated shmem. */
    SHMEM
  }

  @AfterEach
  void closeAll() {
    trackers.forEach(WriteTracker::close);
    arena.close();
  }

  private ByteBuffer memory(Memory kind, int pages) throws IOException {
    return kind == Memory.ANONYMOUS ? anonymous(pages) : shmem(pages);
  }

  private ByteBuffer anonymous(int pages) {
    return arena.allocate((long) pages * PAGE, PAGE).asByteBuffer();
  }

  private static MappedByteBuffer shmem(int pages) throws IOException {
    return mapAndDelete(
        Files.createTempFile(Path.of("/dev/shm"), "precopy-kernel-test", ".mem"), pages);
  }

  private static MappedByteBuffer mapAndDelete(Path file, int pages) throws IOException {
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      return channel.map(FileChannel.MapMode.READ_WRITE, 0, (long) pages * PAGE);
    } finally {
      Files.delete(file);
    }
  }

  private WriteTracker track(ByteBuffer... regions) {
    WriteTracker tracker = provider.open(List.of(regions));
    trackers.add(tracker);
    return tracker;
  }

  /** One collect as a set of pages, checking the runs are ascending, disjoint and counted. */
  private static BitSet collect(WriteTracker tracker) {
    BitSet pages = new BitSet();
    long[] previousEnd = {-1};
    long reported =
        tracker.collect(
            (first, count) -> {
              assertThat(count).isPositive();
              assertThat(first).isGreaterThan(previousEnd[0]);
              previousEnd[0] = first + count;
              pages.set((int) first, (int) (first + count));
            });
    assertThat(reported).isEqualTo(pages.cardinality());
    return pages;
  }

  private static BitSet pages(int... indices) {
    BitSet set = new BitSet();
    for (int i : indices) {
      set.set(i);
    }
    return set;
  }

  @Test
  void isAvailableOnThisMachine() {
    System.out.printf(
        "kernel offers userfaultfd features 0x%x%n", KernelWriteTracking.offeredFeatures());

    assertThat(provider.unavailableReason()).isEmpty();
    assertThat(KernelWriteTracking.offeredFeatures() & KernelSupport.REQUIRED)
        .isEqualTo(KernelSupport.REQUIRED);
  }

  @Test
  void serviceLoaderFindsTheProviderNamedKernel() {
    assertThat(ServiceLoader.load(WriteTrackingProvider.class).stream())
        .anySatisfy(
            p -> {
              assertThat(p.type()).isEqualTo(KernelWriteTracking.class);
              assertThat(p.get().name()).isEqualTo("kernel");
            });
  }

  @ParameterizedTest
  @EnumSource(Memory.class)
  void aPageWrittenBetweenTwoCollectsIsReportedByTheSecondAndNoOtherPage(Memory kind)
      throws IOException {
    ByteBuffer memory = memory(kind, 256);
    WriteTracker tracker = track(memory);
    assertThat(collect(tracker)).as("nothing written since open").isEqualTo(new BitSet());

    memory.putLong(3 * PAGE, 1L);
    memory.put(17 * PAGE + 4095, (byte) 2);
    memory.putLong(18 * PAGE + 8, 3L);
    memory.putInt(255 * PAGE, 4);

    assertThat(collect(tracker)).isEqualTo(pages(3, 17, 18, 255));
  }

  @ParameterizedTest
  @EnumSource(Memory.class)
  void aReportedPageIsNotReportedAgainUnlessWrittenAgain(Memory kind) throws IOException {
    ByteBuffer memory = memory(kind, 64);
    WriteTracker tracker = track(memory);
    memory.putLong(5 * PAGE, 1L);
    memory.putLong(6 * PAGE, 1L);
    assertThat(collect(tracker)).isEqualTo(pages(5, 6));

    assertThat(collect(tracker)).isEqualTo(new BitSet());
    assertThat(memory.getLong(5 * PAGE)).as("a read is no write").isEqualTo(1L);
    assertThat(collect(tracker)).isEqualTo(new BitSet());

    memory.putLong(6 * PAGE + 64, 2L);
    assertThat(collect(tracker)).isEqualTo(pages(6));
    assertThat(collect(tracker)).isEqualTo(new BitSet());
  }

  @Test
  void pagesOfSeveralRegionsAreNumberedInTheOrderOfTheRegions() throws IOException {
    ByteBuffer first = anonymous(8);
    ByteBuffer second = shmem(16);
    ByteBuffer third = anonymous(4);
    WriteTracker tracker = track(first, second, third);

    first.putLong(7 * PAGE, 1L);
    second.putLong(0, 1L);
    second.putLong(15 * PAGE, 1L);
    third.putLong(0, 1L);
    third.putLong(3 * PAGE, 1L);

    assertThat(collect(tracker)).isEqualTo(pages(7, 8, 23, 24, 27));
  }

  @Test
  void moreWrittenRangesThanOneScanHoldsAreAllReportedInOrder() throws IOException {
    int pages = 8 * KernelWriteTracker.VEC_LENGTH;
    ByteBuffer memory = shmem(pages);
    WriteTracker tracker = track(memory);
    BitSet written = new BitSet();
    for (int page = 0; page < pages; page += 2) {
      memory.putLong(page * PAGE, page);
      written.set(page);
    }
    memory.putLong((pages - 1) * PAGE, 1L);
    written.set(pages - 1);

    assertThat(collect(tracker)).isEqualTo(written);
    assertThat(collect(tracker)).isEqualTo(new BitSet());
  }

  @Test
  @Timeout(120)
  void concurrentWritesAreEachReportedByACollectThatBeganAfterThemAndNothingElseIs()
      throws Exception {
    long seed = Long.getLong("kernel.seed", System.nanoTime());
    System.out.println("seed=" + seed + " (replay with -Dkernel.seed=" + seed + ")");
    SplittableRandom random = new SplittableRandom(seed);
    ByteBuffer anonymous = anonymous(512);
    ByteBuffer shared = shmem(512);
    int pages = 1024;
    WriteTracker tracker = track(anonymous, shared);
    AtomicIntegerArray oracle = new AtomicIntegerArray(pages);
    int writers = 3;
    int writesPerThread = 20_000;
    CountDownLatch start = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(writers);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      SplittableRandom own = random.split();
      Thread thread =
          new Thread(
              () -> {
                try {
                  start.await();
                  for (int n = 0; n < writesPerThread; n++) {
                    int page = own.nextInt(pages);
                    int offset = own.nextInt(PAGE / 8) * 8;
                    ByteBuffer region = page < 512 ? anonymous : shared;
                    region.putLong((page % 512) * PAGE + offset, n);
                    oracle.set(page, 1);
                  }
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                } finally {
                  done.countDown();
                }
              },
              "writer-" + w);
      thread.start();
      threads.add(thread);
    }

    BitSet union = new BitSet();
    int collects = 0;
    start.countDown();
    do {
      BitSet before = snapshot(oracle);
      union.or(collect(tracker));
      collects++;
      BitSet missed = (BitSet) before.clone();
      missed.andNot(union);
      assertThat(missed)
          .as("written before collect %d began, never reported", collects)
          .isEqualTo(new BitSet());
    } while (done.getCount() > 0);
    for (Thread thread : threads) {
      thread.join();
    }
    assertThat(failure.get()).isNull();
    union.or(collect(tracker));

    BitSet written = snapshot(oracle);
    System.out.println(
        collects + " collects during the writes, " + written.cardinality() + " pages written");
    assertThat(union).isEqualTo(written);
    assertThat(collect(tracker)).isEqualTo(new BitSet());
  }

  private static BitSet snapshot(AtomicIntegerArray oracle) {
    BitSet set = new BitSet();
    for (int i = 0; i < oracle.length(); i++) {
      if (oracle.get(i) != 0) {
        set.set(i);
      }
    }
    return set;
  }

  @Test
  void aHeapBufferIsRefused() {
    assertThatThrownBy(() -> track(anonymous(1), ByteBuffer.allocate(PAGE)))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessage(
            "kernel dirty tracking cannot track region 1: it is a heap buffer; give a direct or"
                + " mapped buffer");
  }

  @Test
  void aRegionOffThePageBoundaryIsRefused() {
    ByteBuffer memory = anonymous(4);

    assertThatThrownBy(() -> track(memory.slice(8, 2 * PAGE)))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageStartingWith("kernel dirty tracking cannot track region 0: its address 0x")
        .hasMessageEndingWith(" is not on a 4096-byte page boundary");
    assertThatThrownBy(() -> track(memory.slice(0, PAGE + 8)))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessage(
            "kernel dirty tracking cannot track region 0: its capacity 4104 is not a whole number"
                + " of 4096-byte pages");
  }

  @Test
  void overlappingRegionsAreRefused() {
    ByteBuffer memory = anonymous(4);

    assertThatThrownBy(() -> track(memory, memory.slice(PAGE, PAGE)))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessage("kernel dirty tracking cannot track regions 0 and 1: they overlap");
  }

  @Test
  void aMappingOfAFileOnDiskIsRefusedAndTheRegionsBeforeItAreReleased() throws IOException {
    Path target = Path.of("target");
    Files.createDirectories(target);
    Path file = Files.createTempFile(target, "precopy-kernel-test", ".mem");
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.allocate(4 * PAGE));
    }
    MappedByteBuffer onDisk = mapAndDelete(file, 4);
    ByteBuffer anonymous = anonymous(4);
    ByteBuffer shared = shmem(4);

    assertThatThrownBy(() -> track(anonymous, shared, onDisk))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessage(
            "kernel dirty tracking cannot register region 2 (errno EINVAL): only anonymous and"
                + " shared-memory (tmpfs, /dev/shm) mappings can be write-protected");

    WriteTracker again = track(anonymous, shared);
    anonymous.putLong(PAGE, 1L);
    shared.putLong(0, 1L);
    assertThat(collect(again)).isEqualTo(pages(1, 4));
  }

  @Test
  void memoryAnotherTrackerWatchesIsRefused() {
    ByteBuffer memory = anonymous(4);
    track(memory);

    assertThatThrownBy(() -> track(anonymous(2), memory))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessage(
            "kernel dirty tracking cannot register region 1 (errno EBUSY): another userfaultfd"
                + " already watches it (is another tracker open?)");
  }

  @Test
  void closingStopsTrackingSoTheMemoryCanBeTrackedAgain() {
    ByteBuffer memory = anonymous(4);
    WriteTracker first = track(memory);
    memory.putLong(0, 1L);
    first.close();

    WriteTracker second = track(memory);
    assertThat(collect(second))
        .as("the write before the new tracker opened")
        .isEqualTo(new BitSet());
    memory.putLong(2 * PAGE, 1L);
    assertThat(collect(second)).isEqualTo(pages(2));
  }

  @Test
  void collectAfterCloseIsRefusedAndCloseIsIdempotent() {
    WriteTracker tracker = track(anonymous(2));
    tracker.close();
    tracker.close();

    assertThatThrownBy(() -> tracker.collect((first, count) -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("kernel write tracker is closed");
  }

  @Test
  void noRegionsTrackNothing() {
    WriteTracker tracker = track();

    assertThat(collect(tracker)).isEqualTo(new BitSet());
  }
}

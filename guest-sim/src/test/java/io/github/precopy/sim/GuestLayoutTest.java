package io.github.precopy.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import io.github.precopy.core.memory.GuestMemory;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The simulated guest's free memory after boot matches the real guest's, as {@code
 * ../shared/reference/qemu-fph-anchor.md} measured it just before migrating ("Guest memory at the
 * migration point"): the share of guest RAM that is free (MemFree over the RAM given to QEMU) and
 * the share of free memory in order-10 (4 MiB) blocks, each within {@value #TOLERANCE_POINTS}
 * points. The busy guest's layout changes from moment to moment and from run to run (how the vCPUs'
 * chunks interleave), so for it the shares are means over {@value #BUSY_GUESTS} guests (seeds seed,
 * seed + 1, ...) of {@value #BUSY_SNAPSHOTS} moments each, taken after each has churned through its
 * working set twice. The 8 GiB used guest is left to the bench ({@code GuestFidelity}): its boot
 * writes 6 GiB.
 */
final class GuestLayoutTest {

  private static final double TOLERANCE_POINTS = 3;
  private static final double BUSY_ORDER10_TOLERANCE_POINTS = 5;
  private static final long GIB = 1L << 30;
  private static final Duration BUSY_DEADLINE = Duration.ofSeconds(60);
  private static final int BUSY_GUESTS = 3;
  private static final int BUSY_SNAPSHOTS = 8;
  private static final int CONTENT_SAMPLES = 4000;

  /** Reference: size, workload, options, MemFree in MiB, free in order-10 blocks in MiB. */
  static Stream<Arguments> referenceGuests() {
    return Stream.of(
        Arguments.of(2 * GIB, "idle", "profile=fresh", 1923, 1912),
        Arguments.of(2 * GIB, "idle", "profile=used", 1925, 1912),
        Arguments.of(2 * GIB, "busy", "profile=fresh", 1522, 1464),
        Arguments.of(8 * GIB, "idle", "profile=fresh", 7889, 7876),
        Arguments.of(8 * GIB, "busy", "profile=fresh", 7506, 7414));
  }

  @ParameterizedTest(name = "{0} bytes, {1} {2}")
  @MethodSource("referenceGuests")
  void freeMemoryAndItsShareInWholeFourMibBlocksMatchTheReferenceGuest(
      long memory, String workload, String options, int memFreeMib, int order10Mib) {
    boolean busy = workload.equals("busy");
    int guests = busy ? BUSY_GUESTS : 1;
    int snapshots = busy ? BUSY_SNAPSHOTS : 1;
    long seed = System.nanoTime();
    System.out.println("GuestLayoutTest " + workload + " " + options + " seed: " + seed);
    double freeShare = 0;
    double order10Share = 0;
    for (int g = 0; g < guests; g++) {
      try (SimulatedGuest guest =
          SimulatedGuest.builder()
              .memorySize(memory)
              .vcpus(4)
              .seed(seed + g)
              .workload(workload, WorkloadOptions.parse(options))
              .build()) {
        guest.boot();
        BuddyAllocator allocator = guest.allocator();
        if (busy) {
          churn(guest, 2 * BusyWorkload.DEFAULT_WORKING_SET);
        }
        for (int i = 0; i < snapshots; i++) {
          if (busy) {
            churn(guest, BusyWorkload.DEFAULT_WORKING_SET / 4);
          }
          long free = allocator.freePages();
          long inOrder10 =
              allocator.freeBlocks(BuddyAllocator.MAX_ORDER) << BuddyAllocator.MAX_ORDER;
          freeShare += (double) free / allocator.totalPages() / (guests * snapshots);
          order10Share += (double) inOrder10 / free / (guests * snapshots);
        }
        System.out.print(allocator.buddyInfo());
      }
    }
    double referenceFree = (double) memFreeMib * (1 << 20) / memory;
    double referenceOrder10 = (double) order10Mib / memFreeMib;
    assertThat(100 * freeShare)
        .as("free share of guest RAM (seed %d)", seed)
        .isCloseTo(100 * referenceFree, offset(TOLERANCE_POINTS));
    assertThat(100 * order10Share)
        .as("share of free memory in order-10 blocks (seed %d)", seed)
        .isCloseTo(
            100 * referenceOrder10,
            offset(busy ? BUSY_ORDER10_TOLERANCE_POINTS : TOLERANCE_POINTS));
  }

  @ParameterizedTest(name = "profile={0}")
  @ValueSource(strings = {"fresh", "used"})
  void freeMemoryOfAFreshGuestIsZeroAndOfAUsedGuestHoldsOldDataInThreeQuartersOfIt(String profile) {
    long seed = System.nanoTime();
    System.out.println("GuestLayoutTest content " + profile + " seed: " + seed);
    try (SimulatedGuest guest =
        SimulatedGuest.builder()
            .memorySize(GIB)
            .vcpus(4)
            .seed(seed)
            .workload("idle", WorkloadOptions.parse("profile=" + profile))
            .build()) {
      guest.boot();
      SplittableRandom random = new SplittableRandom(seed);
      int free = 0;
      int stale = 0;
      while (free < CONTENT_SAMPLES) {
        long address = random.nextLong(GIB) & -GuestMemory.PAGE_SIZE;
        if (!guest.allocator().isAllocated(address)) {
          free++;
          stale += guest.memory().readLong(address) != 0 ? 1 : 0;
        }
      }
      double staleShare = (double) stale / free;
      double expected = profile.equals("fresh") ? 0 : GuestBoot.USED_TOUCHED;
      assertThat(100 * staleShare)
          .as("share of free pages holding old data (seed %d)", seed)
          .isCloseTo(100 * expected, offset(TOLERANCE_POINTS));
    }
  }

  /** Runs the guest until its vCPUs have written {@code bytes} more, then pauses it. */
  private static void churn(SimulatedGuest guest, long bytes) {
    long target = guest.workDone() + bytes;
    long deadline = System.nanoTime() + BUSY_DEADLINE.toNanos();
    guest.resume();
    while (guest.workDone() < target) {
      assertThat(System.nanoTime()).as("the busy guest makes progress").isLessThan(deadline);
      LockSupport.parkNanos(1_000_000);
    }
    guest.pause();
  }
}

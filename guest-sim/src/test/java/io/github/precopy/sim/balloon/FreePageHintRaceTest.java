package io.github.precopy.sim.balloon;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.balloon.FreePageHintProvider;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.sim.BuddyAllocator;
import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.Vcpu;
import io.github.precopy.sim.VcpuProgram;
import io.github.precopy.sim.Workload;
import io.github.precopy.spi.ConvergencePolicy;
import io.github.precopy.spi.ConvergencePolicy.Decision;
import io.github.precopy.spi.FreePageSink;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.testing.FakeOptimizationContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The race between reclaim and hinting over many seeded migrations: the guest's shrinker gives back
 * blocks whose hints are still queued, the workload allocates and writes them at once, and the
 * device applies hints late (its sink stalls on every hint). Every write after a hint is applied
 * must still reach the destination: every run verifies with 0 mismatches. Hints that outlive their
 * round are counted and printed; whether a run produces one depends on timing, so the device and
 * driver tests cover them deterministically.
 */
final class FreePageHintRaceTest {

  private static final long MIB = 1L << 20;
  private static final long MEMORY = 64 * MIB;
  private static final int RUNS = 20;
  private static final String CAPABILITY = "free-page-hint-late";

  /** What the runs did, to show that the race was exercised. */
  private static final class Totals {
    final AtomicLong shrunkPages = new AtomicLong();
    final AtomicLong hintsOntoReusedMemory = new AtomicLong();
    final AtomicLong staleHints = new AtomicLong();
    final AtomicLong hintedPages = new AtomicLong();
    final AtomicLong rounds = new AtomicLong();
  }

  @ParameterizedTest(name = "{0} dirty tracking")
  @MethodSource("io.github.precopy.core.testing.TestMemories#dirtyTrackings")
  @Timeout(120)
  void writesToReusedAndLateHintedBlocksAlwaysReachTheDestination(String tracking)
      throws InterruptedException {
    long seed = System.nanoTime();
    System.out.println("writesToReusedAndLateHintedBlocksAlwaysReachTheDestination seed=" + seed);
    SplittableRandom seeds = new SplittableRandom(seed);
    Totals totals = new Totals();
    long start = System.nanoTime();

    for (int run = 0; run < RUNS; run++) {
      long runSeed = seeds.nextLong();
      MigrationStats stats = migrateOnce(runSeed, totals, tracking);
      assertThat(stats.status())
          .as("run %d seed %d", run, runSeed)
          .isEqualTo(MigrationStatus.COMPLETED);
      assertThat(stats.verification().pagesChecked())
          .as("run %d seed %d", run, runSeed)
          .isPositive();
      assertThat(stats.verification().mismatches()).as("run %d seed %d", run, runSeed).isZero();
      Map<String, Object> hint = stats.optimizations().get(CAPABILITY);
      assertThat(hint).as("run %d seed %d", run, runSeed).containsEntry("rejected-hints", 0L);
      totals.staleHints.addAndGet((Long) hint.get("stale-hints"));
      totals.hintedPages.addAndGet((Long) hint.get("hinted-pages"));
      totals.rounds.addAndGet((Long) hint.get("rounds"));
    }

    System.out.printf(
        "%d runs in %d ms: %d rounds, %d hinted pages, %d shrunk pages, %d hints applied onto"
            + " reused memory, %d hints after their round (stale)%n",
        RUNS,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
        totals.rounds.get(),
        totals.hintedPages.get(),
        totals.shrunkPages.get(),
        totals.hintsOntoReusedMemory.get(),
        totals.staleHints.get());
    assertThat(totals.shrunkPages.get()).as("the shrinker gave blocks back").isPositive();
    assertThat(totals.hintsOntoReusedMemory.get())
        .as("hints were applied to blocks the workload had reused")
        .isPositive();
  }

  private static MigrationStats migrateOnce(long seed, Totals totals, String tracking)
      throws InterruptedException {
    GuestMemory memory = OldData.anonymousMemory(MEMORY);
    AtomicReference<BalloonDriver> driver = new AtomicReference<>();
    try (SimulatedGuest guest =
            SimulatedGuest.builder()
                .memory(memory)
                .vcpus(2)
                .seed(seed)
                .workload(new ChurnWorkload(driver, totals))
                .build();
        BalloonDriver installed = BalloonDriver.install(guest, true);
        GuestMemory destination = GuestMemory.anonymous(MEMORY)) {
      driver.set(installed);
      guest.start();
      MigrationEngine engine =
          MigrationEngine.builder()
              .addProvider(new LateHintProvider(seed, guest.allocator(), memory, totals))
              .build();
      MigrationConfig config =
          MigrationConfig.builder()
              .dirtyTracking(tracking)
              .capability(CAPABILITY)
              .maxBandwidth(256 * MIB)
              .downtimeLimit(Duration.ofMillis(20))
              .convergencePolicy(atLeastSyncs(6))
              .build();
      MigrationStats stats =
          engine.startInProcess(guest, destination, config).await(60, TimeUnit.SECONDS);
      assertThat(stats).as("seed %d: the migration ended within 60 s", seed).isNotNull();
      assertThat(guest.failure()).as("seed %d", seed).isEmpty();
      return stats;
    }
  }

  /** Keeps precopy going for several rounds, then QEMU's rule. */
  private static ConvergencePolicy atLeastSyncs(long syncs) {
    ConvergencePolicy qemu = ConvergencePolicy.qemu();
    return state -> state.syncCount() < syncs ? Decision.CONTINUE : qemu.decide(state);
  }

  /**
   * Each vCPU allocates blocks and writes them whole at once, frees some and rewrites pages of
   * others. When no free block of the hint order is left because the balloon holds them all, the
   * vCPU is under memory pressure: it calls the balloon's shrinker and allocates a block of that
   * order, which is the block the balloon hinted last, often while its hint is still queued. Writes
   * are paced to about 64 MiB/s for the whole guest.
   */
  private static final class ChurnWorkload implements Workload {
    private static final double BYTES_PER_SECOND = 64 * MIB;
    private final AtomicReference<BalloonDriver> driver;
    private final Totals totals;

    ChurnWorkload(AtomicReference<BalloonDriver> driver, Totals totals) {
      this.driver = driver;
      this.totals = totals;
    }

    @Override
    public VcpuProgram program(Vcpu cpu) {
      return new VcpuProgram() {
        private final List<long[]> owned = new ArrayList<>();
        private final long maxPages = MEMORY / GuestMemory.PAGE_SIZE * 2 / 5 / cpu.count();
        private long ownedPages;
        private long written;
        private long startNanos;

        @Override
        public void step() {
          if (startNanos == 0) {
            startNanos = System.nanoTime();
          }
          SplittableRandom random = cpu.random();
          boolean pressure =
              cpu.allocator().freeBlocks(BuddyAllocator.MAX_ORDER) == 0
                  && driver.get().heldPages() > 0;
          if (ownedPages < maxPages && (pressure || random.nextInt(4) == 0)) {
            allocateAndWrite(
                pressure ? BuddyAllocator.MAX_ORDER : random.nextInt(BuddyAllocator.MAX_ORDER));
          } else if (!owned.isEmpty() && random.nextInt(3) == 0) {
            long[] block = owned.remove(random.nextInt(owned.size()));
            cpu.allocator().free(block[0], (int) block[1]);
            ownedPages -= 1L << block[1];
          } else if (!owned.isEmpty()) {
            long[] block = owned.get(random.nextInt(owned.size()));
            long page = random.nextLong(1L << block[1]);
            cpu.writeWithinPage(block[0] + page * GuestMemory.PAGE_SIZE, 1 + random.nextInt(4));
          }
          // Every step costs at least a page of the budget, so a step that found nothing to do
          // does not spin.
          written += GuestMemory.PAGE_SIZE;
          cpu.idleUntil(startNanos + (long) (written * 1e9 / (BYTES_PER_SECOND / cpu.count())));
        }

        private void allocateAndWrite(int order) {
          BuddyAllocator allocator = cpu.allocator();
          long address = allocator.allocate(order);
          if (address < 0) {
            totals.shrunkPages.addAndGet(driver.get().shrink(1L << order));
            address = allocator.allocate(order);
          }
          if (address >= 0) {
            cpu.writePages(address, 1L << order);
            written += (GuestMemory.PAGE_SIZE << order) - GuestMemory.PAGE_SIZE;
            owned.add(new long[] {address, order});
            ownedPages += 1L << order;
          }
        }
      };
    }
  }

  /**
   * The {@code free-page-hint} optimisation whose sink stalls 5 to 20 ms before every hint, inside
   * the device's critical section, so the whole queue waits: hints arrive late. It counts hints
   * applied to a range the workload has in use by then.
   */
  private static final class LateHintProvider implements MigrationOptimizationProvider {
    private final long seed;
    private final BuddyAllocator allocator;
    private final GuestMemory memory;
    private final Totals totals;

    LateHintProvider(long seed, BuddyAllocator allocator, GuestMemory memory, Totals totals) {
      this.seed = seed;
      this.allocator = allocator;
      this.memory = memory;
      this.totals = totals;
    }

    @Override
    public String capability() {
      return CAPABILITY;
    }

    @Override
    public MigrationOptimization create(OptimizationContext context) {
      SplittableRandom random = new SplittableRandom(seed);
      FreePageSink real = context.freePageSink();
      FreePageSink late =
          (guestAddress, lengthBytes) -> {
            // The fault under test (late hints), not a wait for anything.
            LockSupport.parkNanos(random.nextLong(5_000_000, 20_000_000));
            if (inUse(guestAddress, lengthBytes)) {
              totals.hintsOntoReusedMemory.incrementAndGet();
            }
            return real.freePageHint(guestAddress, lengthBytes);
          };
      return new FreePageHintProvider().create(FakeOptimizationContext.withSink(context, late));
    }

    private boolean inUse(long guestAddress, long lengthBytes) {
      RamBlock block = memory.blockAt(guestAddress);
      long first = (guestAddress - block.guestAddress()) / GuestMemory.PAGE_SIZE;
      return allocator
              .pagesInUse(block)
              .cardinality(first, first + lengthBytes / GuestMemory.PAGE_SIZE)
          > 0;
    }
  }
}

package io.github.precopy.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.testing.TestMemories;
import io.github.precopy.spi.testing.Await;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
final class SimulatedGuestTest {

  private static final long MEMORY = 64L << 20;

  private static SimulatedGuest guest(String workload, int vcpus, long seed) {
    System.out.println("SimulatedGuestTest " + workload + " seed: " + seed);
    return SimulatedGuest.builder()
        .memorySize(MEMORY)
        .vcpus(vcpus)
        .seed(seed)
        .workload(workload, WorkloadOptions.defaults())
        .build();
  }

  private static SimulatedGuest guest(Workload workload, int vcpus) {
    return SimulatedGuest.builder().memorySize(MEMORY).vcpus(vcpus).workload(workload).build();
  }

  @Test
  void pauseStopsEveryWriteUntilResume() throws Exception {
    try (SimulatedGuest guest =
        guest("hot-set", 2, TestMemories.seed("pauseStopsEveryWriteUntilResume"))) {
      GuestMemory memory = guest.memory();
      guest.start();
      long booted = guest.workDone();
      Await.until(() -> guest.workDone() > booted, "the vCPUs run the workload");
      for (int round = 0; round < 3; round++) {
        guest.pause();
        assertThat(guest.isRunning()).isFalse();
        GuestProbe.drainDirty(memory);
        long work = guest.workDone();
        // Both vCPUs tried to go on and were held: only now can "nothing was written" fail.
        assertThat(guest.awaitVcpusHeld(10, TimeUnit.SECONDS))
            .as("both vCPUs came to the gate of the paused guest")
            .isTrue();
        assertThat(GuestProbe.cardinality(GuestProbe.drainDirty(memory))).isZero();
        assertThat(guest.workDone()).isEqualTo(work);
        guest.resume();
        assertThat(guest.isRunning()).isTrue();
        Await.until(
            () -> GuestProbe.cardinality(GuestProbe.drainDirty(memory)) > 0,
            "the resumed guest dirties pages");
      }
    }
  }

  @Test
  void pauseWaitsForAStepInProgress() throws Exception {
    AtomicInteger inside = new AtomicInteger();
    Semaphore stepsBegun = new Semaphore(0);
    Workload slowSteps =
        cpu ->
            () -> {
              inside.incrementAndGet();
              stepsBegun.release();
              long page = (long) cpu.index() * GuestMemory.PAGE_SIZE;
              cpu.writePages(page, 1);
              long until = System.nanoTime() + 20_000_000;
              while (System.nanoTime() < until) {
                Thread.onSpinWait();
              }
              cpu.writePages(page, 1);
              inside.decrementAndGet();
            };
    try (SimulatedGuest guest = guest(slowSteps, 2)) {
      guest.start();
      for (int i = 0; i < 5; i++) {
        // Pause right after a 20 ms step has begun, so that it is still in progress.
        stepsBegun.drainPermits();
        assertThat(stepsBegun.tryAcquire(10, TimeUnit.SECONDS)).as("a step began").isTrue();
        guest.pause();
        assertThat(inside.get()).isZero();
        guest.resume();
      }
    }
  }

  @Test
  void aVcpuHaltedInsideAStepIsAtASafePoint() {
    Workload sleepy = cpu -> () -> cpu.idleUntil(System.nanoTime() + 60_000_000_000L);
    try (SimulatedGuest guest = guest(sleepy, 2)) {
      guest.start();
      long before = System.nanoTime();
      guest.pause();
      assertThat(System.nanoTime() - before).isLessThan(30_000_000_000L);
    }
  }

  @Test
  void runStateListenersHearEachChangeOnceInOrder() {
    List<Boolean> heard = new CopyOnWriteArrayList<>();
    try (SimulatedGuest guest = guest("idle", 1, 7)) {
      guest.addRunStateListener(heard::add);
      guest.boot();
      guest.pause();
      assertThat(heard).isEmpty();
      guest.start();
      guest.resume();
      guest.pause();
      guest.pause();
      guest.resume();
      guest.close();
      guest.close();
    }
    assertThat(heard).containsExactly(true, false, true, false);
  }

  @Test
  void aListenerSeesTheGuestPausedWhenToldItStopped() {
    AtomicLong workWhenTold = new AtomicLong(-1);
    try (SimulatedGuest guest = guest("hot-set", 2, 11)) {
      guest.addRunStateListener(
          running -> {
            if (!running) {
              workWhenTold.set(guest.workDone());
            }
          });
      guest.start();
      guest.pause();
      assertThat(workWhenTold.get()).isEqualTo(guest.workDone());
    }
  }

  @Test
  void aFailingStepIsReportedAndStopsOnlyItsVcpu() throws Exception {
    Workload failing =
        cpu -> {
          AtomicInteger steps = new AtomicInteger();
          return () -> {
            if (cpu.index() == 0 && steps.incrementAndGet() == 3) {
              throw new IllegalStateException("boom in step 3");
            }
            cpu.writePages((long) cpu.index() * GuestMemory.PAGE_SIZE, 1);
            cpu.idleUntil(System.nanoTime() + 1_000_000);
          };
        };
    try (SimulatedGuest guest = guest(failing, 2)) {
      guest.start();
      Await.until(() -> guest.failure().isPresent(), "vcpu-0's failure is reported");
      Throwable failure = guest.failure().orElseThrow();
      assertThat(failure)
          .hasMessageContaining("vcpu-0")
          .hasMessageContaining("during a step")
          .hasRootCauseMessage("boom in step 3");
      long work = guest.workDone();
      Await.until(() -> guest.workDone() > work, "vcpu-1 works on");
      guest.pause();
      guest.resume();
    }
  }

  @Test
  void aWorkloadFailureIsLoggedAsOneLineWithoutAStackTrace() throws Exception {
    Logger logger = Logger.getLogger(SimulatedGuest.class.getName());
    List<LogRecord> warnings = new CopyOnWriteArrayList<>();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
              warnings.add(record);
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    logger.addHandler(capture);
    Workload faulting =
        cpu ->
            () -> {
              if (cpu.index() == 0) {
                throw new InternalError("a fault occurred in an unsafe memory access operation");
              }
              cpu.idleUntil(System.nanoTime() + 1_000_000);
            };
    try (SimulatedGuest guest = guest(faulting, 2)) {
      guest.start();
      Await.until(() -> !warnings.isEmpty(), "vcpu-0's failure is logged");

      assertThat(warnings).hasSize(1);
      LogRecord warning = warnings.get(0);
      assertThat(warning.getThrown()).isNull();
      assertThat(warning.getMessage())
          .doesNotContain("\n")
          .contains("vcpu-0")
          .contains("InternalError: a fault occurred in an unsafe memory access operation");
      assertThat(guest.failure().orElseThrow()).hasRootCauseInstanceOf(InternalError.class);
    } finally {
      logger.removeHandler(capture);
    }
  }

  @Test
  void aFailingBootMakesBootThrow() {
    Workload failing =
        cpu ->
            new VcpuProgram() {
              @Override
              public void boot() {
                if (cpu.index() == 1) {
                  throw new UnsupportedOperationException("no boot on vcpu 1");
                }
              }

              @Override
              public void step() {
                cpu.idleUntil(System.nanoTime() + 1_000_000);
              }
            };
    try (SimulatedGuest guest = guest(failing, 2)) {
      assertThatThrownBy(guest::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("boot failed")
          .hasRootCauseMessage("no boot on vcpu 1");
      assertThat(guest.failure().orElseThrow()).hasMessageContaining("vcpu-1");
    }
  }

  @Test
  void vcpusAreDaemonThreadsNamedByIndexThatEndOnClose() {
    List<Thread> threads = new CopyOnWriteArrayList<>();
    Workload recording =
        cpu ->
            new VcpuProgram() {
              @Override
              public void boot() {
                threads.add(Thread.currentThread());
              }

              @Override
              public void step() {
                cpu.idleUntil(System.nanoTime() + 10_000_000);
              }
            };
    SimulatedGuest guest = guest(recording, 3);
    guest.start();
    assertThat(threads)
        .extracting(Thread::getName)
        .containsExactlyInAnyOrder("vcpu-0", "vcpu-1", "vcpu-2");
    assertThat(threads).allMatch(Thread::isDaemon);
    guest.close();
    assertThat(threads).noneMatch(Thread::isAlive);
    assertThatThrownBy(() -> guest.memory().readLong(0)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(guest::resume).hasMessageContaining("closed");
  }

  @Test
  void resumeBeforeBootIsRejected() {
    try (SimulatedGuest guest = guest("idle", 1, 3)) {
      assertThat(guest.isRunning()).isFalse();
      guest.pause();
      assertThatThrownBy(guest::resume).hasMessageContaining("has not booted");
    }
  }

  @Test
  void devicesAreFoundByTheTypeTheyWereAttachedAs() {
    try (SimulatedGuest guest = guest("idle", 1, 5)) {
      StringBuilder device = new StringBuilder("balloon");
      guest.attach(CharSequence.class, device);
      assertThat(guest.device(CharSequence.class)).containsSame(device);
      assertThat(guest.device(StringBuilder.class)).isEmpty();
      assertThatThrownBy(() -> guest.attach(CharSequence.class, "another"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already attached");
    }
  }

  @Test
  void pagesInUseAreTheAllocatorsAllocatedPages() {
    try (SimulatedGuest guest = guest("compile", 2, 13)) {
      guest.start();
      guest.pause();
      BuddyAllocator allocator = guest.allocator();
      long inUse = 0;
      for (RamBlock block : guest.memory().blocks()) {
        PageBitmap pages = guest.pagesInUse(block);
        inUse += pages.cardinality();
        long page = pages.nextSetBit(0);
        assertThat(allocator.isAllocated(block.guestAddress() + page * GuestMemory.PAGE_SIZE))
            .isTrue();
      }
      assertThat(inUse).isEqualTo(allocator.totalPages() - allocator.freePages());
    }
  }

  @Test
  void theBuilderNeedsMemoryAndASensibleVcpuCount() {
    assertThatThrownBy(() -> SimulatedGuest.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("memory");
    assertThatThrownBy(() -> SimulatedGuest.builder().vcpus(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SimulatedGuest.builder().memorySize(1000))
        .isInstanceOf(IllegalArgumentException.class);
  }
}

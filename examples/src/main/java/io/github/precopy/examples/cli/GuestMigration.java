package io.github.precopy.examples.cli;

import io.github.precopy.balloon.FreePageHintProvider;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.PrecopyMigration;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.transport.MigrationTarget;
import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.balloon.BalloonDriver;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs migrations of simulated guests built from one {@link GuestSpec}: each run boots a fresh
 * guest with the same seed, plugs a balloon into it when the engine offers {@code free-page-hint}
 * (in every run, so that the guests are alike and only the capability decides whether hints are
 * used), starts it, lets its workload run for the spec's settle time, migrates it and closes it.
 *
 * <p>With an {@link Interruption}, a signal cancels the running migration (the guest resumes, the
 * destination's stream ends), whose run then returns its statistics as they were; a signal before
 * the migration started (while the guest settles, too) makes the run return null without starting
 * it.
 */
final class GuestMigration {

  private final MigrationEngine engine;
  private final GuestSpec spec;
  private final Interruption interruption;
  private final Runnable onStart;
  private final boolean buddyInfo;

  /** Runs that no signal interrupts. */
  GuestMigration(MigrationEngine engine, GuestSpec spec) {
    this(engine, spec, null, () -> {}, false);
  }

  /**
   * Runs that a signal to {@code interruption} (null for none) cancels; {@code onStart} is called
   * once each run's guest has started, before it settles and migrates; with {@code buddyInfo} each
   * result carries the guest's free blocks just before its migration started.
   */
  GuestMigration(
      MigrationEngine engine,
      GuestSpec spec,
      Interruption interruption,
      Runnable onStart,
      boolean buddyInfo) {
    this.engine = engine;
    this.spec = spec;
    this.interruption = interruption;
    this.onStart = onStart;
    this.buddyInfo = buddyInfo;
  }

  /** Lets the started guest's workload run for the spec's settle time, or until a signal. */
  private void settle() throws InterruptedException {
    if (spec.settle().isZero()) {
      return;
    }
    CountDownLatch signal = new CountDownLatch(1);
    if (interruption != null
        && !interruption.whileRunning("letting the workload settle", signal::countDown)) {
      return;
    }
    try {
      signal.await(spec.settle().toNanos(), TimeUnit.NANOSECONDS);
    } finally {
      if (interruption != null) {
        interruption.idle();
      }
    }
  }

  /**
   * Migrates a fresh guest into a fresh memory in this process, verified at the end; null if a
   * signal came before it started.
   */
  RunResult inProcess(String label, MigrationConfig config, ProgressBar progress)
      throws InterruptedException {
    GuestMemory destination = spec.newMemory();
    RunResult result =
        run(
            label,
            config,
            progress,
            (guest, listener) -> engine.startInProcess(guest, destination, config, listener));
    // After a failure the engine's destination thread may still be applying its last page when
    // await() returns, so the mapping is then left to the garbage collector rather than unmapped.
    if (result == null || result.stats().status() == MigrationStatus.COMPLETED) {
      destination.close();
    }
    return result;
  }

  /**
   * Migrates a fresh guest to {@code target}: over TCP to a destination that verifies it, or into a
   * snapshot file. Every wait on the destination is bounded by the target's I/O timeout. Null if a
   * signal came before it started.
   */
  RunResult toTarget(
      String label, MigrationConfig config, MigrationTarget target, ProgressBar progress)
      throws InterruptedException {
    return run(
        label,
        config,
        progress,
        (guest, listener) -> engine.start(guest, config, target, listener));
  }

  /** Starts a migration of {@code guest} that reports progress to {@code listener}. */
  @FunctionalInterface
  private interface Starter {
    PrecopyMigration start(SimulatedGuest guest, Consumer<MigrationStats> listener);
  }

  private RunResult run(String label, MigrationConfig config, ProgressBar progress, Starter starter)
      throws InterruptedException {
    List<RunResult.Sample> samples = new ArrayList<>();
    if (interruption != null && !interruption.whileRunning("booting the guest", null)) {
      return null;
    }
    try (SimulatedGuest guest =
        SimulatedGuest.builder()
            .memory(spec.newMemory())
            .vcpus(spec.vcpus())
            .seed(spec.seed())
            .workload(spec.workload(), spec.options())
            .build()) {
      guest.boot();
      BalloonDriver balloon =
          engine.capabilities().contains(FreePageHintProvider.CAPABILITY)
              ? BalloonDriver.install(guest, true)
              : null;
      try {
        guest.start();
        onStart.run();
        settle();
        if (interruption != null && interruption.signalled()) {
          return null;
        }
        String guestBuddyInfo = buddyInfo ? guest.allocator().buddyInfo() : null;
        progress.start(label, spec.memoryBytes());
        MigrationStats stats;
        try {
          PrecopyMigration migration =
              starter.start(
                  guest,
                  snapshot -> {
                    synchronized (samples) {
                      samples.add(
                          new RunResult.Sample(
                              snapshot.totalTimeMillis(), snapshot.ram().remaining()));
                    }
                    progress.update(snapshot);
                  });
          if (interruption != null
              && !interruption.whileRunning("migrating (" + label + ")", migration::cancel)) {
            migration.cancel();
          }
          stats = migration.await();
        } finally {
          progress.finish();
          if (interruption != null) {
            interruption.idle();
          }
        }
        List<RunResult.Sample> all;
        synchronized (samples) {
          all = new ArrayList<>(samples);
        }
        for (MigrationStats.Round round : stats.rounds()) {
          all.add(new RunResult.Sample(round.endMillis(), round.remainingBytes()));
        }
        all.add(new RunResult.Sample(stats.totalTimeMillis(), stats.ram().remaining()));
        all.sort(Comparator.comparingLong(RunResult.Sample::timeMillis));
        return new RunResult(
            label,
            new ArrayList<>(new TreeSet<>(config.capabilities())),
            stats,
            all,
            guestBuddyInfo);
      } finally {
        if (balloon != null) {
          balloon.close();
        }
      }
    }
  }
}

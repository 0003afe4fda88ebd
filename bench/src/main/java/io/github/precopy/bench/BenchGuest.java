package io.github.precopy.bench;

import io.github.precopy.sim.SimulatedGuest;
import io.github.precopy.sim.WorkloadOptions;
import io.github.precopy.sim.balloon.BalloonDriver;

/**
 * A simulated guest set up as the bench's migration programs use it: 4 vCPUs, a seed, a workload
 * with its options, booted, with the balloon driver installed (for {@code free-page-hint}) if
 * asked, then running. Closing stops the driver, then the guest.
 */
final class BenchGuest implements AutoCloseable {

  /** vCPUs of every guest, as in the published free-page-hint experiment. */
  static final int VCPUS = 4;

  private final SimulatedGuest guest;
  private final BalloonDriver driver;

  private BenchGuest(SimulatedGuest guest, BalloonDriver driver) {
    this.guest = guest;
    this.driver = driver;
  }

  /**
   * Builds, boots and starts a guest: the balloon driver (free-page-hint's guest side) is installed
   * after boot and before the guest runs, when {@code balloon} is true.
   */
  static BenchGuest start(
      long memoryBytes, long seed, String workload, WorkloadOptions options, boolean balloon) {
    SimulatedGuest guest =
        SimulatedGuest.builder()
            .memorySize(memoryBytes)
            .vcpus(VCPUS)
            .seed(seed)
            .workload(workload, options)
            .build();
    BalloonDriver driver = null;
    try {
      guest.boot();
      if (balloon) {
        driver = BalloonDriver.install(guest, true);
      }
      guest.start();
      return new BenchGuest(guest, driver);
    } catch (RuntimeException | Error e) {
      try (guest;
          BalloonDriver installed = driver) {
        throw e;
      }
    }
  }

  SimulatedGuest guest() {
    return guest;
  }

  @Override
  public void close() {
    try (guest;
        BalloonDriver installed = driver) {
      // Both closed, the driver first.
    }
  }
}

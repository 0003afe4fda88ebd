package io.github.precopy.spi;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What an optimisation can see and touch of the migration it takes part in. Valid for that one
 * migration; all methods are thread-safe.
 */
public interface OptimizationContext {

  /** The guest's RAM blocks in guest-address order. */
  List<RamRegion> ramRegions();

  /** The page size in bytes (4096). */
  int pageSize();

  /** Whether the guest's vCPUs are running now (false once it is paused for switch-over). */
  boolean guestRunning();

  /**
   * A device attached to the guest, e.g. a free-page-hint device, or empty if the guest has none of
   * that type.
   */
  <T> Optional<T> device(Class<T> type);

  /** Where to report free guest memory that need not be sent in this round. */
  FreePageSink freePageSink();

  /** Options given to this migration, by name; empty when none were given. */
  Map<String, String> options();

  /**
   * Asks the guest to throttle its vCPUs to {@code 100 - percent} of their time, as QEMU's {@code
   * cpu_throttle_set}: each vCPU sleeps {@code percent / (100 - percent)} of every 10 ms it runs. 0
   * lifts the throttle. The engine lifts any throttle when the migration ends, whatever the
   * outcome. The default does nothing and returns false.
   *
   * @param percent 0 to 99
   * @return whether the guest throttles (false: it cannot, the request had no effect)
   * @throws IllegalArgumentException if {@code percent} is outside 0 to 99
   */
  default boolean throttleGuest(int percent) {
    return false;
  }

  /** The guest's throttle now, in percent; 0 when it runs at full speed. */
  default int guestThrottle() {
    return 0;
  }
}

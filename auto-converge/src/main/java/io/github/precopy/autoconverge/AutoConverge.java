package io.github.precopy.autoconverge;

import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.SyncPeriod;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Auto-converge for one migration: feeds each dirty-rate period to the {@link ThrottleSchedule} and
 * asks for the throttle it gives. The engine lifts the throttle at the end.
 *
 * <p>Periods arrive on the migration thread; {@link #statistics()} may be called from any thread.
 */
final class AutoConverge implements MigrationOptimization {

  private final OptimizationContext context;
  private final ThrottleSchedule schedule;
  private volatile boolean refused;
  private volatile int steps;

  AutoConverge(OptimizationContext context, ThrottleParameters parameters) {
    this.context = context;
    this.schedule = new ThrottleSchedule(parameters);
  }

  @Override
  public void onPhase(PrecopyPhase phase) {
    // Throttling is decided per dirty-rate period, not per phase.
  }

  @Override
  public void onSyncPeriod(SyncPeriod period) {
    int before = schedule.percentage();
    int after = schedule.period(period.dirtiedBytes(), period.transferredBytes());
    if (after != before && !refused) {
      if (context.throttleGuest(after)) {
        steps++;
      } else {
        refused = true;
      }
    }
  }

  /**
   * {@code active} (false when the guest cannot throttle), {@code cpu-throttle-percentage} (QEMU's
   * name: the throttle now) and {@code throttle-steps} (how many times it changed).
   */
  @Override
  public Map<String, Object> statistics() {
    Map<String, Object> statistics = new LinkedHashMap<>();
    statistics.put("active", !refused);
    if (refused) {
      statistics.put("reason", "the guest cannot throttle its vCPUs");
    }
    statistics.put("cpu-throttle-percentage", (long) context.guestThrottle());
    statistics.put("throttle-steps", (long) steps);
    return statistics;
  }
}

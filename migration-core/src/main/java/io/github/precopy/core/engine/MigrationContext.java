package io.github.precopy.core.engine;

import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.spi.FreePageSink;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.RamRegion;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@link OptimizationContext} of one migration. */
public final class MigrationContext implements OptimizationContext {

  private final Guest guest;
  private final Map<String, String> options;
  private final RamState ram;
  private final List<RamRegion> regions;
  private volatile int throttle;

  /** The context of a migration of {@code guest}, with the migration's options. */
  public MigrationContext(Guest guest, Map<String, String> options, RamState ram) {
    this.guest = guest;
    this.options = Map.copyOf(options);
    this.ram = ram;
    this.regions =
        guest.memory().blocks().stream()
            .map(b -> new RamRegion(b.name(), b.guestAddress(), b.usedLength()))
            .toList();
  }

  @Override
  public List<RamRegion> ramRegions() {
    return regions;
  }

  @Override
  public int pageSize() {
    return GuestMemory.PAGE_SIZE;
  }

  @Override
  public boolean guestRunning() {
    return guest.isRunning();
  }

  @Override
  public <T> Optional<T> device(Class<T> type) {
    return guest.device(type);
  }

  @Override
  public FreePageSink freePageSink() {
    return ram;
  }

  @Override
  public Map<String, String> options() {
    return options;
  }

  /** Validates the percentage and asks the guest; remembers it if the guest throttles. */
  @Override
  public synchronized boolean throttleGuest(int percent) {
    if (percent < 0 || percent > 99) {
      throw new IllegalArgumentException("throttle " + percent + " % is not 0 to 99");
    }
    boolean throttles = guest.throttle(percent);
    if (throttles) {
      throttle = percent;
    }
    return throttles;
  }

  @Override
  public int guestThrottle() {
    return throttle;
  }

  /**
   * Runs the guest at full speed again if it was throttled: the engine calls this when the
   * migration ends, whatever the outcome.
   */
  public synchronized void liftThrottle() {
    if (throttle != 0) {
      guest.throttle(0);
      throttle = 0;
    }
  }
}

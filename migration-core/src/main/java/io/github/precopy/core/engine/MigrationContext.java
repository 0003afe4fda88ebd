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
}

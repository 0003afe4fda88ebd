package io.github.precopy.core;

import io.github.precopy.spi.FreePageSink;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.RamRegion;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@link OptimizationContext} of one migration. */
final class Context implements OptimizationContext {

  private final Guest guest;
  private final MigrationConfig config;
  private final RamState ram;
  private final List<RamRegion> regions;

  Context(Guest guest, MigrationConfig config, RamState ram) {
    this.guest = guest;
    this.config = config;
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
    return config.options();
  }
}

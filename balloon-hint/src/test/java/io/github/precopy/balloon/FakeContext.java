package io.github.precopy.balloon;

import io.github.precopy.spi.FreePageSink;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.RamRegion;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A hand-written {@link OptimizationContext}: one RAM region, a settable run state, one device. */
final class FakeContext implements OptimizationContext {

  private final List<RamRegion> regions;
  private final FreePageSink sink;
  private final Object device;
  private volatile boolean guestRunning = true;

  FakeContext(List<RamRegion> regions, FreePageSink sink, Object device) {
    this.regions = regions;
    this.sink = sink;
    this.device = device;
  }

  void guestRunning(boolean running) {
    this.guestRunning = running;
  }

  @Override
  public List<RamRegion> ramRegions() {
    return regions;
  }

  @Override
  public int pageSize() {
    return 4096;
  }

  @Override
  public boolean guestRunning() {
    return guestRunning;
  }

  @Override
  public <T> Optional<T> device(Class<T> type) {
    return type.isInstance(device) ? Optional.of(type.cast(device)) : Optional.empty();
  }

  @Override
  public FreePageSink freePageSink() {
    return sink;
  }

  @Override
  public Map<String, String> options() {
    return Map.of();
  }
}

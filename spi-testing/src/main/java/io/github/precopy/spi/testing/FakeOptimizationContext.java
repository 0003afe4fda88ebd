package io.github.precopy.spi.testing;

import io.github.precopy.spi.FreePageSink;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.RamRegion;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * An {@link OptimizationContext} for testing an optimisation without the engine: the RAM regions,
 * free-page sink and device the test gives it, and a guest run state the test sets. Or a real
 * context with another sink in its place ({@link #withSink}), to watch or delay what an
 * optimisation reports. Thread-safe.
 */
public final class FakeOptimizationContext implements OptimizationContext {

  private final List<RamRegion> regions;
  private final FreePageSink sink;
  private final Object device;
  private final OptimizationContext real;
  private final Map<String, String> options;
  private final BooleanSupplier running;
  private volatile boolean guestRunning = true;
  private volatile int throttle;
  private volatile boolean throttles = true;

  /**
   * A context of these regions, reporting to {@code sink}, with {@code device} attached (null for
   * none), no options and a running guest.
   */
  public FakeOptimizationContext(List<RamRegion> regions, FreePageSink sink, Object device) {
    this.regions = List.copyOf(regions);
    this.sink = Objects.requireNonNull(sink, "sink");
    this.device = device;
    this.real = null;
    this.options = Map.of();
    this.running = () -> guestRunning;
  }

  private FakeOptimizationContext(OptimizationContext real, FreePageSink sink) {
    this.regions = real.ramRegions();
    this.sink = Objects.requireNonNull(sink, "sink");
    this.device = null;
    this.real = real;
    this.options = real.options();
    this.running = real::guestRunning;
  }

  /** {@code real}, everything but its free-page sink, which is {@code sink}. */
  public static OptimizationContext withSink(OptimizationContext real, FreePageSink sink) {
    return new FakeOptimizationContext(Objects.requireNonNull(real, "real"), sink);
  }

  /**
   * Sets whether the guest runs, as {@link #guestRunning()} reports it (not for {@link #withSink}).
   */
  public void guestRunning(boolean running) {
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
    return running.getAsBoolean();
  }

  @Override
  public <T> Optional<T> device(Class<T> type) {
    if (real != null) {
      return real.device(type);
    }
    return type.isInstance(device) ? Optional.of(type.cast(device)) : Optional.empty();
  }

  @Override
  public FreePageSink freePageSink() {
    return sink;
  }

  @Override
  public Map<String, String> options() {
    return options;
  }

  /** Sets whether the guest can throttle its vCPUs (it can unless told otherwise). */
  public void guestThrottles(boolean throttles) {
    this.throttles = throttles;
  }

  /**
   * Remembers the percentage if the guest throttles (a context from {@link #withSink} asks the real
   * one).
   */
  @Override
  public boolean throttleGuest(int percent) {
    if (real != null) {
      return real.throttleGuest(percent);
    }
    if (percent < 0 || percent > 99) {
      throw new IllegalArgumentException("throttle " + percent + " % is not 0 to 99");
    }
    if (throttles) {
      throttle = percent;
    }
    return throttles;
  }

  @Override
  public int guestThrottle() {
    return real != null ? real.guestThrottle() : throttle;
  }
}

package io.github.precopy.core;

import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.SyncPeriod;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * A test plugin: records the phases and dirty-rate periods it sees, counts how often it is created
 * and runs an optional action on every phase.
 */
final class RecordingProvider implements MigrationOptimizationProvider {

  final String capability;
  final List<PrecopyPhase> phases = new CopyOnWriteArrayList<>();
  final List<SyncPeriod> periods = new CopyOnWriteArrayList<>();
  final AtomicInteger created = new AtomicInteger();
  final AtomicInteger closed = new AtomicInteger();
  private final BiConsumer<PrecopyPhase, OptimizationContext> action;

  RecordingProvider(String capability) {
    this(capability, (phase, context) -> {});
  }

  RecordingProvider(String capability, BiConsumer<PrecopyPhase, OptimizationContext> action) {
    this.capability = capability;
    this.action = action;
  }

  @Override
  public String capability() {
    return capability;
  }

  @Override
  public MigrationOptimization create(OptimizationContext context) {
    created.incrementAndGet();
    return new MigrationOptimization() {
      @Override
      public void onPhase(PrecopyPhase phase) {
        phases.add(phase);
        action.accept(phase, context);
      }

      @Override
      public void onSyncPeriod(SyncPeriod period) {
        periods.add(period);
      }

      @Override
      public Map<String, Object> statistics() {
        return Map.of("phases", phases.size());
      }

      @Override
      public void close() {
        closed.incrementAndGet();
      }
    };
  }
}

package io.github.precopy.core;

import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import java.util.concurrent.atomic.AtomicInteger;

/** Registered in this module's test resources, to prove discovery through ServiceLoader. */
public final class ServiceLoadedTestProvider implements MigrationOptimizationProvider {

  static final AtomicInteger CREATED = new AtomicInteger();

  @Override
  public String capability() {
    return "service-loaded-test";
  }

  @Override
  public MigrationOptimization create(OptimizationContext context) {
    CREATED.incrementAndGet();
    return phase -> {};
  }
}

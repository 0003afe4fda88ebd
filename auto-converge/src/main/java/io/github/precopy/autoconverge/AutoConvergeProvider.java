package io.github.precopy.autoconverge;

import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import java.util.Map;

/**
 * The {@code auto-converge} capability: QEMU's way to make a guest that dirties memory faster than
 * the migration sends it converge, by throttling its vCPUs step by step ({@link ThrottleSchedule}).
 * Parameters, among the migration's options, with QEMU's names: {@code throttle-trigger-threshold},
 * {@code cpu-throttle-initial}, {@code cpu-throttle-increment}, {@code cpu-throttle-tailslow},
 * {@code max-cpu-throttle}.
 *
 * <p>The guest must be able to throttle ({@code Guest.throttle}); one that cannot migrates as plain
 * precopy and the statistics say so. Found by {@link java.util.ServiceLoader}; stateless and
 * thread-safe.
 */
public final class AutoConvergeProvider implements MigrationOptimizationProvider {

  /** The capability name. */
  public static final String CAPABILITY = "auto-converge";

  /** For {@link java.util.ServiceLoader}. */
  public AutoConvergeProvider() {}

  @Override
  public String capability() {
    return CAPABILITY;
  }

  /** Checks the auto-converge parameters among {@code options}. */
  @Override
  public void validate(Map<String, String> options) {
    ThrottleParameters.from(options);
  }

  @Override
  public MigrationOptimization create(OptimizationContext context) {
    return new AutoConverge(context, ThrottleParameters.from(context.options()));
  }
}

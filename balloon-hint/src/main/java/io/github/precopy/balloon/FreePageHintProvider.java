package io.github.precopy.balloon;

import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import java.util.Optional;

/**
 * The {@code free-page-hint} capability: a migration that enables it lets the guest's balloon
 * driver report free memory through the guest's {@link FreePageHintDevice}, so that memory is not
 * sent.
 *
 * <p>The capability needs a {@link FreePageHintDevice} among the guest's devices ({@link
 * io.github.precopy.spi.OptimizationContext#device}) whose driver acknowledged {@link
 * FreePageHintDevice#FEATURE_FREE_PAGE_HINT}; otherwise the migration runs as plain precopy and the
 * statistics report {@code active=false} with the reason. One device serves one migration at a
 * time. Found by {@link java.util.ServiceLoader}; stateless and thread-safe.
 */
public final class FreePageHintProvider implements MigrationOptimizationProvider {

  /** The capability name. */
  public static final String CAPABILITY = "free-page-hint";

  /** For {@link java.util.ServiceLoader}. */
  public FreePageHintProvider() {}

  @Override
  public String capability() {
    return CAPABILITY;
  }

  @Override
  public MigrationOptimization create(OptimizationContext context) {
    Optional<FreePageHintDevice> found = context.device(FreePageHintDevice.class);
    if (found.isEmpty()) {
      return FreePageHintOptimization.inactive("the guest has no free-page-hint device");
    }
    FreePageHintDevice device = found.get();
    if (!device.freePageHintNegotiated()) {
      return FreePageHintOptimization.inactive(
          "the guest driver did not accept VIRTIO_BALLOON_F_FREE_PAGE_HINT");
    }
    return device
        .connect(context.freePageSink(), context.ramRegions())
        .<MigrationOptimization>map(
            session -> new FreePageHintOptimization(context, device, session))
        .orElseGet(
            () ->
                FreePageHintOptimization.inactive(
                    "the free-page-hint device is in use by another migration"));
  }
}

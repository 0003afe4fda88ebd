/**
 * The plugin contract for precopy migration optimisations, modelled on QEMU's precopy notifier
 * chain ({@code include/migration/misc.h}): five {@link io.github.precopy.spi.PrecopyPhase phases}
 * and one {@link io.github.precopy.spi.FreePageSink free-page sink}.
 *
 * <p>A plugin ships a {@link io.github.precopy.spi.MigrationOptimizationProvider} found by {@link
 * java.util.ServiceLoader}; putting its jar on the class path makes its capability available, and
 * naming the capability in a migration's configuration turns it on for that migration only.
 *
 * <p>Stability: this package has no dependencies and grows only by {@code default} methods, so a
 * plugin compiled against an older version keeps working.
 */
package io.github.precopy.spi;

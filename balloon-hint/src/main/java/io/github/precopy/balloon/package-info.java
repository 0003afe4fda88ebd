/**
 * Virtio-balloon free page hinting as the migration capability {@code free-page-hint}: the guest
 * reports free memory so that precopy does not send it. Depends on the SPI alone.
 *
 * <ul>
 *   <li>{@link io.github.precopy.balloon.FreePageHintDevice}: the device, with its guest-facing
 *       interface (features, config space, the free-page virtqueue), status machine, command ids
 *       and consumer thread. Its host side is driven by the optimisation.
 *   <li>{@link io.github.precopy.balloon.FreePageHintProvider}: the plugin the engine finds with
 *       {@link java.util.ServiceLoader}; it looks for the device among the guest's devices ({@link
 *       io.github.precopy.spi.OptimizationContext#device}).
 * </ul>
 *
 * <p>A guest's driver talks to the device; the simulator's model of Linux's driver is {@code
 * io.github.precopy.sim.balloon.BalloonDriver} in module {@code precopy-guest-sim}:
 *
 * <pre>{@code
 * SimulatedGuest guest = SimulatedGuest.builder().memorySize(1L << 30).build();
 * try (BalloonDriver balloon = BalloonDriver.install(guest, true)) {
 *   guest.start();
 *   MigrationStats stats = MigrationEngine.create()
 *       .startInProcess(guest, destination,
 *           MigrationConfig.builder().capability("free-page-hint").build())
 *       .await();
 *   stats.optimizations().get("free-page-hint").get("hinted-pages");
 * }
 * }</pre>
 */
package io.github.precopy.balloon;

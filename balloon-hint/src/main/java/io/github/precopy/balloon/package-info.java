/**
 * Virtio-balloon free page hinting as the migration capability {@code free-page-hint}: the guest
 * reports free memory so that precopy does not send it.
 *
 * <ul>
 *   <li>{@link io.github.precopy.balloon.FreePageHintDevice}: the device (host side), its status
 *       machine, command ids, free-page queue and consumer thread.
 *   <li>{@link io.github.precopy.sim.balloon.BalloonDriver}: a model of Linux's driver for the
 *       simulated guest.
 *   <li>{@link io.github.precopy.balloon.FreePageHintProvider}: the plugin the engine finds with
 *       {@link java.util.ServiceLoader}.
 * </ul>
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

package io.github.precopy.sim;

/**
 * Told when a {@link SimulatedGuest} starts or stops running (QEMU's VM change-state handlers, e.g.
 * a balloon device parking its consumer while the guest is paused).
 *
 * <p>Called on the thread that changed the run state, under the guest's run-state lock, in
 * registration order: on resume before any vCPU runs, on pause after every vCPU has stopped. A
 * listener must not call {@code pause}, {@code resume}, {@code start} or {@code close} of the
 * guest.
 */
@FunctionalInterface
public interface RunStateListener {

  /** The guest now runs ({@code true}) or is paused ({@code false}). */
  void runStateChanged(boolean running);
}

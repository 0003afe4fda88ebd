package io.github.precopy.spi;

/**
 * Decides, after every dirty-log sync of a running guest, whether precopy continues, switches over
 * to stop-and-copy, or gives up. A policy is what keeps a migration that cannot converge from
 * running forever.
 *
 * <p>Called on the migration thread only; implementations need not be thread-safe but must not
 * block. A new policy instance may be shared by migrations only if it is stateless.
 */
@FunctionalInterface
public interface ConvergencePolicy {

  /** What the engine does next. */
  enum Decision {
    /** Send another round while the guest keeps running. */
    CONTINUE,
    /** Pause the guest, sync once more and send what remains. */
    STOP_AND_COPY,
    /** Fail the migration; the source guest keeps running, unharmed. */
    ABORT
  }

  /**
   * Decides the next step from the state right after a sync.
   *
   * @param state the figures of the migration so far
   * @return the next step, never null
   */
  Decision decide(ConvergenceState state);

  /**
   * QEMU's rule ({@code migration_iteration_run}): switch over once the remaining bytes can be sent
   * within the downtime limit at the measured bandwidth, otherwise continue, without bound.
   */
  static ConvergencePolicy qemu() {
    return state ->
        state.remainingBytes() <= state.thresholdBytes()
            ? Decision.STOP_AND_COPY
            : Decision.CONTINUE;
  }
}

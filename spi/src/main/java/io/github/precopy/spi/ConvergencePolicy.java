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
   * The elapsed time by which this policy wants to be asked even though no sync is due, in
   * milliseconds since the migration started ({@link ConvergenceState#elapsedMillis()}); {@link
   * Long#MAX_VALUE}, the default, for never.
   *
   * <p>The engine asks a policy at the syncs its downtime rule calls for, and a round can last long
   * (a large guest, a low bandwidth limit). Once a migration has run this long, the engine ends the
   * round where it is, within one 100 ms rate-limit window: it flushes what it sent, syncs and
   * calls {@link #decide}. It does so once: if the policy then continues, it is asked again only at
   * the syncs that come due as usual. A policy with a time bound returns the bound here, so that
   * the bound is kept within a window rather than at the end of a round.
   *
   * <p>Read once, when the migration starts.
   *
   * @return milliseconds since the start of the migration, or {@link Long#MAX_VALUE} for never
   */
  default long deadlineMillis() {
    return Long.MAX_VALUE;
  }

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

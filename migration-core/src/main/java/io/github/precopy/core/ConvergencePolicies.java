package io.github.precopy.core;

import io.github.precopy.spi.ConvergencePolicy;
import io.github.precopy.spi.ConvergencePolicy.Decision;
import io.github.precopy.spi.ConvergenceState;
import java.time.Duration;
import java.util.Objects;

/** The convergence policies shipped with the engine. */
public final class ConvergencePolicies {

  /** What a bounded policy does when its bound is reached. */
  public enum GiveUp {
    /** Fail the migration; the guest runs on at the source (Cloud Hypervisor's way). */
    FAIL,
    /** Switch over anyway and accept a longer downtime (Xen's way after its last iteration). */
    SWITCH_OVER
  }

  private ConvergencePolicies() {}

  /** QEMU's rule, the default: see {@link ConvergencePolicy#qemu()}. */
  public static ConvergencePolicy qemu() {
    return ConvergencePolicy.qemu();
  }

  /**
   * QEMU's rule, bounded: once {@code maxSyncs} syncs have been taken or {@code timeout} has passed
   * without converging, {@code giveUp} decides. The timeout is kept within a round too: the policy
   * asks to be consulted at {@code timeout} ({@link ConvergencePolicy#deadlineMillis()}), so the
   * engine decides within one 100 ms rate-limit window of it rather than at the end of the round.
   *
   * @param maxSyncs the most dirty-log syncs while the guest runs (setup sync included), ≥ 1
   * @param timeout the longest precopy may run before giving up
   */
  public static ConvergencePolicy bounded(long maxSyncs, Duration timeout, GiveUp giveUp) {
    if (maxSyncs < 1) {
      throw new IllegalArgumentException("maxSyncs must be at least 1, got " + maxSyncs);
    }
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(giveUp, "giveUp");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    return new Bounded(maxSyncs, timeout.toMillis(), giveUp);
  }

  /**
   * QEMU's rule, bounded by progress: once the remaining bytes have not fallen below their lowest
   * value for {@code syncs} syncs in a row, {@code giveUp} decides. A guest that dirties memory as
   * fast as the migration sends it so ends instead of running on for ever. It keeps state: use one
   * instance per migration.
   *
   * @param syncs consecutive syncs without a new lowest remaining, ≥ 1
   */
  public static ConvergencePolicy untilStalled(int syncs, GiveUp giveUp) {
    if (syncs < 1) {
      throw new IllegalArgumentException("syncs must be at least 1, got " + syncs);
    }
    return new UntilStalled(syncs, Objects.requireNonNull(giveUp, "giveUp"));
  }

  /** {@link #untilStalled}: one instance per migration, called on its thread only. */
  private static final class UntilStalled implements ConvergencePolicy {
    private static final ConvergencePolicy QEMU = ConvergencePolicy.qemu();

    private final int syncs;
    private final GiveUp giveUp;
    private long lowest = Long.MAX_VALUE;
    private int withoutProgress;

    UntilStalled(int syncs, GiveUp giveUp) {
      this.syncs = syncs;
      this.giveUp = giveUp;
    }

    @Override
    public Decision decide(ConvergenceState state) {
      Decision decision = QEMU.decide(state);
      if (state.remainingBytes() < lowest) {
        lowest = state.remainingBytes();
        withoutProgress = 0;
      } else {
        withoutProgress++;
      }
      if (decision == Decision.CONTINUE && withoutProgress >= syncs) {
        return giveUp == GiveUp.FAIL ? Decision.ABORT : Decision.STOP_AND_COPY;
      }
      return decision;
    }
  }

  /** {@link #bounded}: stateless, so one instance may serve several migrations. */
  private static final class Bounded implements ConvergencePolicy {
    private static final ConvergencePolicy QEMU = ConvergencePolicy.qemu();

    private final long maxSyncs;
    private final long timeoutMillis;
    private final GiveUp giveUp;

    Bounded(long maxSyncs, long timeoutMillis, GiveUp giveUp) {
      this.maxSyncs = maxSyncs;
      this.timeoutMillis = timeoutMillis;
      this.giveUp = giveUp;
    }

    @Override
    public Decision decide(ConvergenceState state) {
      Decision decision = QEMU.decide(state);
      if (decision == Decision.CONTINUE
          && (state.syncCount() >= maxSyncs || state.elapsedMillis() >= timeoutMillis)) {
        return giveUp == GiveUp.FAIL ? Decision.ABORT : Decision.STOP_AND_COPY;
      }
      return decision;
    }

    @Override
    public long deadlineMillis() {
      return timeoutMillis;
    }
  }
}

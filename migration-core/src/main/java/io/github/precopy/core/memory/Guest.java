package io.github.precopy.core.memory;

import io.github.precopy.bitmap.PageBitmap;
import java.util.Optional;

/**
 * The machine being migrated, as the engine sees it: its memory, a way to stop and restart its
 * writers for switch-over, and the devices attached to it.
 *
 * <p>Implementations are thread-safe. {@link #pause()} must not return while any write to {@link
 * #memory()} is in flight, and no write may start until {@link #resume()}: stop-and-copy relies on
 * it to send a consistent final state.
 */
public interface Guest {

  /** The guest's RAM. */
  GuestMemory memory();

  /** Stops every writer at a safe point and returns once none is writing. Idempotent. */
  void pause();

  /** Lets the writers run again. Idempotent. */
  void resume();

  /** Whether the guest's writers run. */
  boolean isRunning();

  /**
   * Throttles the guest's vCPUs as QEMU's {@code cpu_throttle_set}: each sleeps {@code percent /
   * (100 - percent)} of every 10 ms slice it runs, so it keeps {@code 100 - percent} of its time. 0
   * runs it at full speed again. Called by the engine on the migration thread, for a convergence
   * aid such as auto-converge; the engine sets 0 when the migration ends. The default cannot
   * throttle and returns false.
   *
   * @param percent 0 to 99
   * @return whether this guest throttles
   */
  default boolean throttle(int percent) {
    return false;
  }

  /** The device of {@code type} attached to this guest, or empty if none is. */
  default <T> Optional<T> device(Class<T> type) {
    return Optional.empty();
  }

  /**
   * A snapshot of the pages of {@code block} the guest has in use now, one bit per page of the
   * block, or null meaning "every page". The engine's verification compares these pages at
   * switch-over (call it while the guest is paused); free pages may legitimately differ at the
   * destination.
   */
  default PageBitmap pagesInUse(RamBlock block) {
    return null;
  }
}

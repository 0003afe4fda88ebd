package io.github.precopy.spi;

/**
 * Where an optimisation reports guest memory that is free and need not be sent: QEMU's {@code
 * qemu_guest_free_page_hint}.
 *
 * <p>Implementations are thread-safe. A hint is weak: the guest may reuse the memory at any time
 * after hinting it, and any write after the hint is applied is caught by dirty tracking and sent.
 */
@FunctionalInterface
public interface FreePageSink {

  /**
   * Clears the whole pages of {@code [guestAddress, guestAddress + lengthBytes)} from the migration
   * bitmap so that they are not sent in the current round.
   *
   * <p>The range is clamped to the RAM block that holds {@code guestAddress} and continues into the
   * following block when the next block starts right where it ends; partial pages are not cleared;
   * an address outside guest RAM abandons the rest of the hint. Hints are ignored unless a
   * migration is in setup or active.
   *
   * @param guestAddress guest-physical address of the first byte, in bytes
   * @param lengthBytes length of the range in bytes
   * @return the number of pages whose dirty bit this call actually cleared (0 if none)
   */
  long freePageHint(long guestAddress, long lengthBytes);
}

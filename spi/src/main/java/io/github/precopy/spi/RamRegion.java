package io.github.precopy.spi;

/**
 * One RAM block of the guest as an optimisation sees it.
 *
 * @param name the block's unique name, e.g. {@code pc.ram}
 * @param guestAddress guest-physical address of the block's first byte
 * @param lengthBytes the block's used length in bytes, a whole number of pages
 */
public record RamRegion(String name, long guestAddress, long lengthBytes) {

  /** Validates the region. */
  public RamRegion {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("RAM region name must not be empty");
    }
    if (guestAddress < 0 || lengthBytes < 0) {
      throw new IllegalArgumentException(
          "RAM region "
              + name
              + ": negative address "
              + guestAddress
              + " or length "
              + lengthBytes);
    }
  }
}

package io.github.precopy.bitmap;

/**
 * Receives set-bit indices from {@link PageBitmap#forEachSetBit}.
 *
 * <p>Called on the thread that runs the walk, in increasing index order.
 */
@FunctionalInterface
public interface BitVisitor {

  /**
   * Visits one set bit.
   *
   * @param index the bit index, in bits from the start of the bitmap
   * @return {@code true} to continue the walk, {@code false} to stop it
   */
  boolean visit(long index);
}

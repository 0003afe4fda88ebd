package io.github.precopy.bitmap;

/**
 * Index arithmetic and argument checks shared by {@link PageBitmap} and {@link AtomicPageBitmap}.
 *
 * <p>Bit {@code i} lives in word {@code i >>> 6} at position {@code i & 63}. Java masks shift
 * distances to six bits, so {@code 1L << i}, {@code -1L << from} (bits at and above {@code from} in
 * its word) and {@code -1L >>> -to} (bits below {@code to} in word {@code (to - 1) >>> 6}, all ones
 * when {@code to} is a multiple of 64) need no {@code & 63}.
 *
 * <p>The checks throw from separate methods so that the checks themselves stay small enough to
 * inline into every caller.
 */
final class Bits {

  /** log2 of the bits in a word. */
  static final int WORD_SHIFT = 6;

  private Bits() {}

  /**
   * Returns the number of words that hold {@code sizeBits} bits.
   *
   * @throws IllegalArgumentException if {@code sizeBits} is negative or above {@link
   *     PageBitmap#MAX_SIZE_BITS}
   */
  static int wordsFor(long sizeBits) {
    if (sizeBits < 0 || sizeBits > PageBitmap.MAX_SIZE_BITS) {
      throw new IllegalArgumentException(
          "size in bits " + sizeBits + " out of range [0, " + PageBitmap.MAX_SIZE_BITS + "]");
    }
    return (int) ((sizeBits + Long.SIZE - 1) >>> WORD_SHIFT);
  }

  /** Returns the index of the word that holds bit {@code index}. */
  static int wordIndex(long index) {
    return (int) (index >>> WORD_SHIFT);
  }

  /** Checks {@code 0 <= index < size}. */
  static void checkIndex(long index, long size) {
    if (index < 0 || index >= size) {
      throw indexException(index, size);
    }
  }

  /** Checks {@code 0 <= from <= size}: a scan may start at {@code size} and finds nothing. */
  static void checkFrom(long from, long size) {
    if (from < 0 || from > size) {
      throw fromException(from, size);
    }
  }

  /** Checks {@code 0 <= from <= to <= size}. */
  static void checkRange(long from, long to, long size) {
    if (from < 0 || from > to || to > size) {
      throw rangeException(from, to, size);
    }
  }

  private static IndexOutOfBoundsException indexException(long index, long size) {
    return new IndexOutOfBoundsException("bit index " + index + " out of range [0, " + size + ")");
  }

  private static IndexOutOfBoundsException fromException(long from, long size) {
    return new IndexOutOfBoundsException("from index " + from + " out of range [0, " + size + "]");
  }

  private static RuntimeException rangeException(long from, long to, long size) {
    if (from < 0) {
      return fromException(from, size);
    }
    if (from > to) {
      return new IllegalArgumentException("from index " + from + " > to index " + to);
    }
    return new IndexOutOfBoundsException("to index " + to + " out of range [0, " + size + "]");
  }
}

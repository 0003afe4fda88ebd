package io.github.precopy.bench;

/**
 * The loops every contender is held against, written straight over a {@code long[]}: first and last
 * word masks and a {@link Long#bitCount} loop in between, with no abstraction, no bounds checks
 * beyond the JVM's own and no allocation. They are the ceiling a bitmap class can reach (the
 * targets ask {@code PageBitmap} for at least 0.9× of them).
 *
 * <p>Ranges are half-open, {@code [from, to)}, and {@code from <= to} is assumed.
 */
final class InlineBits {

  private InlineBits() {}

  /** Bits set in {@code [from, to)}. */
  static long cardinality(long[] words, long from, long to) {
    if (from >= to) {
      return 0;
    }
    int first = (int) (from >>> 6);
    int last = (int) ((to - 1) >>> 6);
    long firstMask = -1L << from; // shifts use the low six bits
    long lastMask = -1L >>> -to;
    if (first == last) {
      return Long.bitCount(words[first] & firstMask & lastMask);
    }
    long count = Long.bitCount(words[first] & firstMask);
    for (int i = first + 1; i < last; i++) {
      count += Long.bitCount(words[i]);
    }
    return count + Long.bitCount(words[last] & lastMask);
  }

  /** Clears {@code [from, to)} and returns how many of its bits were set (count-and-clear). */
  static long countAndClear(long[] words, long from, long to) {
    if (from >= to) {
      return 0;
    }
    int first = (int) (from >>> 6);
    int last = (int) ((to - 1) >>> 6);
    long firstMask = -1L << from;
    long lastMask = -1L >>> -to;
    if (first == last) {
      long mask = firstMask & lastMask;
      long w = words[first];
      words[first] = w & ~mask;
      return Long.bitCount(w & mask);
    }
    long w = words[first];
    words[first] = w & ~firstMask;
    long count = Long.bitCount(w & firstMask);
    for (int i = first + 1; i < last; i++) {
      count += Long.bitCount(words[i]);
      words[i] = 0;
    }
    w = words[last];
    words[last] = w & ~lastMask;
    return count + Long.bitCount(w & lastMask);
  }

  /** Sets every bit of {@code [from, to)}. */
  static void setRange(long[] words, long from, long to) {
    if (from >= to) {
      return;
    }
    int first = (int) (from >>> 6);
    int last = (int) ((to - 1) >>> 6);
    long firstMask = -1L << from;
    long lastMask = -1L >>> -to;
    if (first == last) {
      words[first] |= firstMask & lastMask;
      return;
    }
    words[first] |= firstMask;
    for (int i = first + 1; i < last; i++) {
      words[i] = -1L;
    }
    words[last] |= lastMask;
  }

  /**
   * The memory limit of a range read: the plain sum of every word that {@code [from, to)} touches,
   * no masks and no bit counting (the JIT may vectorise it). Not a bit count.
   */
  static long readSweep(long[] words, long from, long to) {
    int first = (int) (from >>> 6);
    int end = (int) ((to + 63) >>> 6);
    long sum = 0;
    for (int i = first; i < end; i++) {
      sum += words[i];
    }
    return sum;
  }

  /**
   * The memory limit of a range count-and-clear: read every word that {@code [from, to)} touches,
   * add it up and store zero (whole words, no masks, no bit counting). Not a bit count.
   */
  static long readWriteSweep(long[] words, long from, long to) {
    int first = (int) (from >>> 6);
    int end = (int) ((to + 63) >>> 6);
    long sum = 0;
    for (int i = first; i < end; i++) {
      sum += words[i];
      words[i] = 0;
    }
    return sum;
  }

  /** Sum of the indices of all set bits: a {@link Long#numberOfTrailingZeros} walk. */
  static long sumOfSetBits(long[] words) {
    long sum = 0;
    for (int i = 0; i < words.length; i++) {
      long w = words[i];
      long base = (long) i << 6;
      while (w != 0) {
        sum += base + Long.numberOfTrailingZeros(w);
        w &= w - 1;
      }
    }
    return sum;
  }
}

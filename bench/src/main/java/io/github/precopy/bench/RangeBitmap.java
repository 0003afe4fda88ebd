package io.github.precopy.bench;

/**
 * One contender of the range benchmarks behind a common face, in the manner of Caffeine's {@code
 * BasicCache} adapters: each method is the best that the library offers for the operation, and says
 * what that is. A fork runs one contender, so every call site here sees a single receiver class and
 * the JIT inlines it.
 *
 * <p>Ranges are half-open, {@code [from, to)}.
 */
interface RangeBitmap {

  /** Bits set in {@code [from, to)}. */
  long cardinality(long from, long to);

  /** Clears {@code [from, to)} and returns how many of its bits were set. */
  long countAndClear(long from, long to);

  /** Sets every bit of {@code [from, to)}. */
  void setRange(long from, long to);

  /**
   * Puts {@code [from, to)} back to the content this bitmap was built from. Runs outside the
   * measurement ({@code @Setup(Level.Invocation)}); every implementation writes every word of the
   * range, so every contender starts its measured call with the range equally hot in cache.
   */
  void restore(long from, long to);
}

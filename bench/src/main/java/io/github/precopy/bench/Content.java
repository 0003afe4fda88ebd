package io.github.precopy.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded bitmap contents shared by the benchmarks, as plain {@code long[]} words (bit {@code i} is
 * bit {@code i & 63} of word {@code i >>> 6}, the layout of every contender).
 *
 * <p>Every generator takes a seed, so each contender of a benchmark sees exactly the same bits, and
 * a rerun sees the same bits as the last one.
 */
final class Content {

  /** Seed of every benchmark's content; changing it changes nothing but the bits. */
  static final long SEED = 0x5eed_b17_3a9L;

  private Content() {}

  /** Words of a {@code sizeBits}-bit map with each bit set independently with probability 1/2. */
  static long[] random50(long sizeBits) {
    SplittableRandom random = new SplittableRandom(SEED);
    long[] words = new long[words(sizeBits)];
    for (int i = 0; i < words.length; i++) {
      words[i] = random.nextLong();
    }
    return words;
  }

  /**
   * Words of a {@code sizeBits}-bit map with each bit set independently with probability {@code
   * density}, drawn as geometric gaps so a 1 %-dense map costs one random number per set bit.
   */
  static long[] random(long sizeBits, double density) {
    if (density == 0.5) {
      return random50(sizeBits);
    }
    SplittableRandom random = new SplittableRandom(SEED);
    long[] words = new long[words(sizeBits)];
    double logQ = Math.log1p(-density);
    for (long i = gap(random, logQ); i < sizeBits; i += 1 + gap(random, logQ)) {
      words[(int) (i >>> 6)] |= 1L << i;
    }
    return words;
  }

  /**
   * Words of a dirty log in which 99 % of the words are zero: 1 % of the words, chosen at random,
   * hold random non-zero content (about 32 bits each). Models a log drained often while a few vCPUs
   * write to a few pages.
   */
  static long[] sparseLog(long sizeBits) {
    SplittableRandom random = new SplittableRandom(SEED);
    long[] words = new long[words(sizeBits)];
    for (int i = 0; i < words.length; i++) {
      if (random.nextInt(100) == 0) {
        long w;
        do {
          w = random.nextLong();
        } while (w == 0);
        words[i] = w;
      }
    }
    return words;
  }

  /**
   * Words of a 50 %-dense dirty log in runs: set and clear runs alternate, each 1 to 63 bits long,
   * so no word is zero (a clear run can never cover a whole word) and refilling it through {@code
   * markDirtyRange} costs about two calls per word. Models a log drained after a write-heavy round,
   * where pages are dirtied in runs.
   */
  static long[] denseLog(long sizeBits) {
    SplittableRandom random = new SplittableRandom(SEED);
    long[] words = new long[words(sizeBits)];
    boolean set = random.nextBoolean();
    for (long i = 0; i < sizeBits; set = !set) {
      long end = Math.min(sizeBits, i + 1 + random.nextInt(63));
      if (set) {
        for (long b = i; b < end; b++) {
          words[(int) (b >>> 6)] |= 1L << b;
        }
      }
      i = end;
    }
    return words;
  }

  /** Words of a {@code sizeBits}-bit map with every bit set. */
  static long[] allOnes(long sizeBits) {
    long[] words = new long[words(sizeBits)];
    Arrays.fill(words, -1L);
    return words;
  }

  /** Number of words that hold {@code sizeBits} bits; the benchmarks use multiples of 64. */
  static int words(long sizeBits) {
    if ((sizeBits & 63) != 0 || sizeBits >>> 6 > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("sizeBits must be a multiple of 64: " + sizeBits);
    }
    return (int) (sizeBits >>> 6);
  }

  private static long gap(SplittableRandom random, double logQ) {
    return (long) Math.floor(Math.log(1.0 - random.nextDouble()) / logQ);
  }
}

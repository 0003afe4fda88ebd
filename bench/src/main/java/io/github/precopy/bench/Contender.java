package io.github.precopy.bench;

import io.github.precopy.bitmap.PageBitmap;
import java.util.BitSet;
import org.apache.lucene.util.FixedBitSet;
import org.roaringbitmap.BitSetUtil;
import org.roaringbitmap.RoaringBitmap;

/**
 * The contenders of the range benchmarks, as an enum {@code @Param} (Caffeine's {@code CacheType}
 * pattern): each constant builds a {@link RangeBitmap} over the same content.
 *
 * <p>How each library is asked, and why:
 *
 * <ul>
 *   <li>{@link #PAGE_BITMAP}: {@code cardinality(from, to)}, {@code clearRange} (which returns the
 *       count, so count-and-clear is one pass) and {@code setRange}.
 *   <li>{@link #INLINE_LOOP}: {@link InlineBits} over a bare {@code long[]}: the ceiling without
 *       abstraction.
 *   <li>{@link #JAVA_UTIL_BITSET}: {@code get(from, to).cardinality()}, the only range count that
 *       {@code java.util.BitSet} has; it <b>allocates</b> a new {@code BitSet} of the range's size
 *       on every call. Count-and-clear is that, then {@code clear(from, to)} (two passes).
 *   <li>{@link #LUCENE_FIXED_BITSET}: Lucene 9.12's {@code FixedBitSet} has no range cardinality
 *       and no longer has {@code BitUtil.pop_array}; its maintainers' advice is a {@code
 *       Long.bitCount} loop over the words (apache/lucene#710), so the count is {@link
 *       InlineBits#cardinality} over {@code getBits()}. Count-and-clear is that, then {@code
 *       FixedBitSet.clear(from, to)} (two passes); setting is {@code set(from, to)}.
 *   <li>{@link #ROARING_BITMAP}: {@code rangeCardinality(from, to)}, then {@code remove(from, to)}
 *       for count-and-clear, {@code add(from, to)} to set; built with {@code
 *       BitSetUtil.bitmapOf(long[])} then {@code runOptimize()}, so each container has the form
 *       Roaring itself prefers for the content (bitmap containers for random content, runs for
 *       all-ones).
 *   <li>{@link #READ_SWEEP}: not a bitmap: the plain sum of the range's words (and, for
 *       count-and-clear, the sum with a zero stored into every word): the memory limit.
 * </ul>
 */
public enum Contender {
  PAGE_BITMAP {
    @Override
    RangeBitmap create(long[] pristine, long sizeBits) {
      PageBitmap bitmap = new PageBitmap(sizeBits);
      setBits(bitmap, pristine, 0, sizeBits);
      return new RangeBitmap() {
        @Override
        public long cardinality(long from, long to) {
          return bitmap.cardinality(from, to);
        }

        @Override
        public long countAndClear(long from, long to) {
          return bitmap.clearRange(from, to);
        }

        @Override
        public void setRange(long from, long to) {
          bitmap.setRange(from, to);
        }

        @Override
        public void restore(long from, long to) {
          // Public API only: clear the range, then set each pristine bit.
          bitmap.clearRange(from, to);
          setBits(bitmap, pristine, from, to);
        }
      };
    }
  },

  INLINE_LOOP {
    @Override
    RangeBitmap create(long[] pristine, long sizeBits) {
      long[] words = pristine.clone();
      return new RangeBitmap() {
        @Override
        public long cardinality(long from, long to) {
          return InlineBits.cardinality(words, from, to);
        }

        @Override
        public long countAndClear(long from, long to) {
          return InlineBits.countAndClear(words, from, to);
        }

        @Override
        public void setRange(long from, long to) {
          InlineBits.setRange(words, from, to);
        }

        @Override
        public void restore(long from, long to) {
          copyWords(pristine, words, from, to);
        }
      };
    }
  },

  JAVA_UTIL_BITSET {
    @Override
    RangeBitmap create(long[] pristine, long sizeBits) {
      BitSet original = BitSet.valueOf(pristine);
      return new RangeBitmap() {
        BitSet bits = (BitSet) original.clone();

        @Override
        public long cardinality(long from, long to) {
          return bits.get((int) from, (int) to).cardinality();
        }

        @Override
        public long countAndClear(long from, long to) {
          int count = bits.get((int) from, (int) to).cardinality();
          bits.clear((int) from, (int) to);
          return count;
        }

        @Override
        public void setRange(long from, long to) {
          bits.set((int) from, (int) to);
        }

        @Override
        public void restore(long from, long to) {
          bits = (BitSet) original.clone();
        }
      };
    }
  },

  LUCENE_FIXED_BITSET {
    @Override
    RangeBitmap create(long[] pristine, long sizeBits) {
      FixedBitSet bits = new FixedBitSet(pristine.clone(), Math.toIntExact(sizeBits));
      return new RangeBitmap() {
        @Override
        public long cardinality(long from, long to) {
          return InlineBits.cardinality(bits.getBits(), from, to);
        }

        @Override
        public long countAndClear(long from, long to) {
          long count = InlineBits.cardinality(bits.getBits(), from, to);
          bits.clear((int) from, (int) to);
          return count;
        }

        @Override
        public void setRange(long from, long to) {
          bits.set((int) from, (int) to);
        }

        @Override
        public void restore(long from, long to) {
          copyWords(pristine, bits.getBits(), from, to);
        }
      };
    }
  },

  ROARING_BITMAP {
    @Override
    RangeBitmap create(long[] pristine, long sizeBits) {
      RoaringBitmap original = BitSetUtil.bitmapOf(pristine);
      original.runOptimize();
      return new RangeBitmap() {
        RoaringBitmap bits = original.clone();

        @Override
        public long cardinality(long from, long to) {
          return bits.rangeCardinality(from, to);
        }

        @Override
        public long countAndClear(long from, long to) {
          long count = bits.rangeCardinality(from, to);
          bits.remove(from, to);
          return count;
        }

        @Override
        public void setRange(long from, long to) {
          bits.add(from, to);
        }

        @Override
        public void restore(long from, long to) {
          bits = original.clone();
        }
      };
    }
  },

  READ_SWEEP {
    @Override
    RangeBitmap create(long[] pristine, long sizeBits) {
      long[] words = pristine.clone();
      return new RangeBitmap() {
        @Override
        public long cardinality(long from, long to) {
          return InlineBits.readSweep(words, from, to);
        }

        @Override
        public long countAndClear(long from, long to) {
          return InlineBits.readWriteSweep(words, from, to);
        }

        @Override
        public void setRange(long from, long to) {
          InlineBits.setRange(words, from, to);
        }

        @Override
        public void restore(long from, long to) {
          copyWords(pristine, words, from, to);
        }
      };
    }
  };

  /** A bitmap of {@code sizeBits} bits holding exactly the bits of {@code pristine}. */
  abstract RangeBitmap create(long[] pristine, long sizeBits);

  /** Sets in {@code bitmap} every bit of {@code [from, to)} that is set in {@code words}. */
  static void setBits(PageBitmap bitmap, long[] words, long from, long to) {
    for (long i = from; i < to; ) {
      long w = words[(int) (i >>> 6)] & (-1L << i);
      long base = i & ~63L;
      while (w != 0) {
        long bit = base + Long.numberOfTrailingZeros(w);
        if (bit >= to) {
          return;
        }
        bitmap.set(bit);
        w &= w - 1;
      }
      i = base + 64;
    }
  }

  /**
   * Copies the whole words that {@code [from, to)} touches from {@code source} to {@code target}.
   */
  static void copyWords(long[] source, long[] target, long from, long to) {
    int first = (int) (from >>> 6);
    int end = (int) ((to + 63) >>> 6);
    System.arraycopy(source, first, target, first, end - first);
  }
}

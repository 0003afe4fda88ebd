package io.github.precopy.bitmap;

import static io.github.precopy.bitmap.Bits.WORD_SHIFT;
import static io.github.precopy.bitmap.Bits.checkFrom;
import static io.github.precopy.bitmap.Bits.checkIndex;
import static io.github.precopy.bitmap.Bits.checkRange;
import static io.github.precopy.bitmap.Bits.wordIndex;

import java.util.Arrays;
import java.util.Objects;

/**
 * Single-writer page bitmap of a fixed size, backed by {@code long[]} words: the migration bitmap
 * (QEMU {@code RAMBlock.bmap}), one bit per page.
 *
 * <p>Not thread-safe. All access must come from one thread, or be ordered by the caller (for
 * example under the bitmap lock). Indices and sizes are in bits; a range {@code [from, to)}
 * includes {@code from} and excludes {@code to}.
 *
 * <p>Every method checks its arguments once: an index outside {@code [0, size())} throws {@link
 * IndexOutOfBoundsException}, a range with {@code from > to} throws {@link
 * IllegalArgumentException}, and a range outside {@code [0, size()]} throws {@link
 * IndexOutOfBoundsException}; each message names the value and the bound.
 */
public final class PageBitmap {

  /*
   * Design notes.
   *
   * Layout: bit i is bit (i & 63) of words[i >>> 6]; the array has ceil(size / 64) words, so word
   * indices are ints and 2^34 bits (2 GiB of words, 64 TiB of 4 KiB pages) fit. The bits of the
   * last word at and above size ("ghost bits") are always zero: no operation writes them, because
   * every index and range is checked against size. cardinality and nextSetBit rely on that and
   * never mask the last word.
   *
   * Range operations work a word at a time: the first word under -1L << from, the words in between
   * whole, the last word under -1L >>> -to. clearRange counts and clears in one pass
   * (QEMU bitmap_count_one_with_offset followed by bitmap_clear, as qemu_guest_free_page_hint
   * does), so a free-page hint subtracts exactly the bits it cleared from the dirty counter.
   *
   * words is package-private so that AtomicPageBitmap.drainInto can OR a drained log into it
   * directly, as QEMU's cpu_physical_memory_sync_dirty_bitmap does:
   *   bits = atomic_xchg(&src[k], 0); new = ~dest[k] & bits; dest[k] |= bits;
   *   count += popcount(new).
   */

  /**
   * The largest supported size in bits: 64 times the largest {@code long[]} length that HotSpot
   * allocates ({@code Integer.MAX_VALUE - 8}).
   */
  public static final long MAX_SIZE_BITS = (Integer.MAX_VALUE - 8) * (long) Long.SIZE;

  final long[] words;
  private final long size;

  /**
   * Creates a bitmap of {@code sizeBits} bits, all clear.
   *
   * @param sizeBits number of bits, in {@code [0, MAX_SIZE_BITS]}
   * @throws IllegalArgumentException if {@code sizeBits} is negative or above {@link
   *     #MAX_SIZE_BITS}
   */
  public PageBitmap(long sizeBits) {
    this.words = new long[Bits.wordsFor(sizeBits)];
    this.size = sizeBits;
  }

  /** Returns the number of bits, fixed at construction. */
  public long size() {
    return size;
  }

  /**
   * Returns whether bit {@code i} is set.
   *
   * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
   */
  public boolean get(long i) {
    checkIndex(i, size);
    return (words[wordIndex(i)] & (1L << i)) != 0;
  }

  /**
   * Sets bit {@code i}.
   *
   * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
   */
  public void set(long i) {
    checkIndex(i, size);
    words[wordIndex(i)] |= 1L << i;
  }

  /**
   * Clears bit {@code i}.
   *
   * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
   */
  public void clear(long i) {
    checkIndex(i, size);
    words[wordIndex(i)] &= ~(1L << i);
  }

  /**
   * Clears bit {@code i} and returns whether it was set (QEMU {@code test_and_clear_bit}).
   *
   * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
   */
  public boolean testAndClear(long i) {
    checkIndex(i, size);
    int u = wordIndex(i);
    long mask = 1L << i;
    long word = words[u];
    words[u] = word & ~mask;
    return (word & mask) != 0;
  }

  /** Returns the number of set bits. */
  public long cardinality() {
    long count = 0;
    for (long word : words) {
      count += Long.bitCount(word);
    }
    return count;
  }

  /**
   * Returns the number of set bits in {@code [from, to)}; 0 for an empty range (QEMU {@code
   * bitmap_count_one_with_offset}).
   *
   * @throws IndexOutOfBoundsException if the range is outside {@code [0, size()]}
   * @throws IllegalArgumentException if {@code from > to}
   */
  public long cardinality(long from, long to) {
    checkRange(from, to, size);
    if (from == to) {
      return 0;
    }
    int first = wordIndex(from);
    int last = wordIndex(to - 1);
    long firstMask = -1L << from;
    long lastMask = -1L >>> -to;
    if (first == last) {
      return Long.bitCount(words[first] & firstMask & lastMask);
    }
    long count = Long.bitCount(words[first] & firstMask);
    for (int u = first + 1; u < last; u++) {
      count += Long.bitCount(words[u]);
    }
    return count + Long.bitCount(words[last] & lastMask);
  }

  /**
   * Sets every bit in {@code [from, to)} (QEMU {@code bitmap_set}).
   *
   * @return the number of bits that changed from 0 to 1
   * @throws IndexOutOfBoundsException if the range is outside {@code [0, size()]}
   * @throws IllegalArgumentException if {@code from > to}
   */
  public long setRange(long from, long to) {
    checkRange(from, to, size);
    if (from == to) {
      return 0;
    }
    int first = wordIndex(from);
    int last = wordIndex(to - 1);
    long firstMask = -1L << from;
    long lastMask = -1L >>> -to;
    if (first == last) {
      return setMasked(first, firstMask & lastMask);
    }
    long changed = setMasked(first, firstMask);
    for (int u = first + 1; u < last; u++) {
      changed += Long.SIZE - Long.bitCount(words[u]);
      words[u] = -1L;
    }
    return changed + setMasked(last, lastMask);
  }

  /**
   * Clears every bit in {@code [from, to)}, counting the set bits as it goes, in one pass (QEMU
   * {@code bitmap_count_one_with_offset} then {@code bitmap_clear}).
   *
   * @return the number of bits that changed from 1 to 0
   * @throws IndexOutOfBoundsException if the range is outside {@code [0, size()]}
   * @throws IllegalArgumentException if {@code from > to}
   */
  public long clearRange(long from, long to) {
    checkRange(from, to, size);
    if (from == to) {
      return 0;
    }
    int first = wordIndex(from);
    int last = wordIndex(to - 1);
    long firstMask = -1L << from;
    long lastMask = -1L >>> -to;
    if (first == last) {
      return clearMasked(first, firstMask & lastMask);
    }
    long changed = clearMasked(first, firstMask);
    for (int u = first + 1; u < last; u++) {
      changed += Long.bitCount(words[u]);
      words[u] = 0;
    }
    return changed + clearMasked(last, lastMask);
  }

  /**
   * Returns the smallest set index at or after {@code from}, or -1 if there is none (QEMU {@code
   * find_next_bit}, which returns the size instead of -1).
   *
   * @param from first index to look at, in {@code [0, size()]}; {@code size()} returns -1
   * @throws IndexOutOfBoundsException if {@code from} is outside {@code [0, size()]}
   */
  public long nextSetBit(long from) {
    checkFrom(from, size);
    if (from == size) {
      return -1;
    }
    int u = wordIndex(from);
    long word = words[u] & (-1L << from);
    while (word == 0) {
      if (++u == words.length) {
        return -1;
      }
      word = words[u];
    }
    return ((long) u << WORD_SHIFT) + Long.numberOfTrailingZeros(word);
  }

  /**
   * Returns the smallest clear index at or after {@code from}, or -1 if there is none.
   *
   * @param from first index to look at, in {@code [0, size()]}; {@code size()} returns -1
   * @throws IndexOutOfBoundsException if {@code from} is outside {@code [0, size()]}
   */
  public long nextClearBit(long from) {
    checkFrom(from, size);
    if (from == size) {
      return -1;
    }
    int u = wordIndex(from);
    long word = ~words[u] & (-1L << from);
    while (word == 0) {
      if (++u == words.length) {
        return -1;
      }
      word = ~words[u];
    }
    long index = ((long) u << WORD_SHIFT) + Long.numberOfTrailingZeros(word);
    return index < size ? index : -1;
  }

  /**
   * Calls {@code visitor} for each set bit in {@code [from, to)}, in increasing order, until it
   * returns {@code false}.
   *
   * <p>The walk reads each word once and then visits that word's set bits. The visitor may clear
   * the bit it is visiting (for example with {@link #testAndClear}); other changes to the word
   * being visited are not seen, changes to later words are.
   *
   * @return the number of calls made to {@code visitor}, including a final call that returned
   *     {@code false}
   * @throws IndexOutOfBoundsException if the range is outside {@code [0, size()]}
   * @throws IllegalArgumentException if {@code from > to}
   * @throws NullPointerException if {@code visitor} is null
   */
  public long forEachSetBit(long from, long to, BitVisitor visitor) {
    checkRange(from, to, size);
    Objects.requireNonNull(visitor, "visitor is null");
    if (from == to) {
      return 0;
    }
    int u = wordIndex(from);
    int last = wordIndex(to - 1);
    long word = words[u] & (-1L << from);
    long visited = 0;
    while (true) {
      if (u == last) {
        word &= -1L >>> -to;
      }
      long base = (long) u << WORD_SHIFT;
      while (word != 0) {
        visited++;
        if (!visitor.visit(base + Long.numberOfTrailingZeros(word))) {
          return visited;
        }
        word &= word - 1;
      }
      if (u == last) {
        return visited;
      }
      word = words[++u];
    }
  }

  /** Clears every bit. */
  public void clear() {
    Arrays.fill(words, 0L);
  }

  private long setMasked(int u, long mask) {
    long word = words[u];
    words[u] = word | mask;
    return Long.bitCount(~word & mask);
  }

  private long clearMasked(int u, long mask) {
    long word = words[u];
    words[u] = word & ~mask;
    return Long.bitCount(word & mask);
  }
}

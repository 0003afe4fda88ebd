package io.github.precopy.bitmap;

import static io.github.precopy.bitmap.Bits.checkIndex;
import static io.github.precopy.bitmap.Bits.checkRange;
import static io.github.precopy.bitmap.Bits.wordIndex;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * Multi-writer dirty log of a fixed size, one bit per page (QEMU {@code
 * ram_list.dirty_memory[DIRTY_MEMORY_MIGRATION]}): any number of threads mark pages dirty, and the
 * migration thread periodically drains the log into its {@link PageBitmap}.
 *
 * <p>Thread-safe and lock-free. {@link #markDirty}, {@link #markDirtyRange} and {@link #isDirty}
 * may run on any thread at any time. {@link #drainInto} may run concurrently with them; two drains
 * at once must use different targets (a {@link PageBitmap} has a single writer), and each mark then
 * reaches exactly one of them.
 *
 * <p>Guarantee: a mark that happened-before a {@link #drainInto} began is seen by that drain; a
 * mark concurrent with a drain is seen by it or by the next drain. No mark is lost and none is
 * counted twice: every bit a drain takes out of the log is counted once, and only if it was clear
 * in the target. A drain that sees a mark also sees every write the marking thread made before the
 * mark, so a page read after the drain reflects the write that dirtied it.
 *
 * <p>Indices and sizes are in bits; ranges are half-open, {@code [from, to)}. Argument checks and
 * their exceptions are the same as {@link PageBitmap}'s.
 */
public final class AtomicPageBitmap {

  /*
   * Design notes.
   *
   * Layout: the same words as PageBitmap (bit i is bit (i & 63) of words[i >>> 6], ghost bits of
   * the last word always zero), accessed only through a VarHandle on long[] elements, so
   * drainInto can OR word k of the log into word k of the target.
   *
   * Drain (QEMU cpu_physical_memory_sync_dirty_bitmap):
   *   bits = atomic_xchg(&src[k], 0); new = ~dest[k] & bits; dest[k] |= bits;
   *   count += popcount(new).
   * Each word is first read in opaque mode and skipped when zero, so a sparse log costs one load
   * per word and no atomic write (no cache line is taken from the writers).
   *
   * Ordering argument. Marks are volatile-mode read-modify-writes (getAndBitwiseOr), and the
   * drain's getAndSet is volatile too, so all of them are totally ordered per word.
   *  - Not lost: a mark ordered before the swap is in the value the swap takes; a mark ordered
   *    after it acts on the zeroed word and stays for the next drain. The RMWs are atomic, so no
   *    mark overwrites another, and the swap removes exactly the bits it returns. The interior
   *    words of markDirtyRange are written with a volatile store of all ones instead of an RMW:
   *    it overwrites the word with a superset of any value, so it loses nothing either.
   *  - Not counted twice: a bit leaves the log only through a swap, and the drain counts it only
   *    if it was clear in the target.
   *  - Seen when it happened-before the drain: the opaque read is coherent, so it returns the
   *    mark's value or a later one, which still holds the bit (only a swap removes it).
   *  - Page contents: the mark is a volatile write and the swap that takes its bit is a later
   *    volatile read of the same word, so the mark synchronizes-with the swap (JLS 17.4.4), and
   *    the marking thread's earlier page writes happen-before the migration thread's page reads.
   * Volatile rather than release semantics for the mark: release/acquire would suffice, but
   * volatile keeps the argument inside the JLS synchronization order, and on x86 both compile to
   * the same lock cmpxchg loop. There is deliberately no "bit already set, skip the write" fast
   * path: without the write there is no synchronizes-with edge, and a drain could take the bit set
   * by an earlier mark and read the page before this thread's write to it is visible.
   */

  private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

  private final long[] words;
  private final long size;

  /**
   * Creates an empty log of {@code sizeBits} bits.
   *
   * @param sizeBits number of bits, in {@code [0, PageBitmap.MAX_SIZE_BITS]}
   * @throws IllegalArgumentException if {@code sizeBits} is negative or above {@link
   *     PageBitmap#MAX_SIZE_BITS}
   */
  public AtomicPageBitmap(long sizeBits) {
    this.words = new long[Bits.wordsFor(sizeBits)];
    this.size = sizeBits;
  }

  /** Returns the number of bits, fixed at construction. */
  public long size() {
    return size;
  }

  /**
   * Marks bit {@code i} dirty with one atomic OR (volatile semantics). Lock-free; call it after the
   * write that dirtied the page.
   *
   * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
   */
  public void markDirty(long i) {
    checkIndex(i, size);
    or(wordIndex(i), 1L << i);
  }

  /**
   * Marks every bit in {@code [from, to)} dirty, a word at a time: an atomic OR on the first and
   * last words, a volatile write of all ones on the words in between. Lock-free; call it after the
   * writes that dirtied the pages. Each word is marked atomically, the range as a whole is not: a
   * concurrent drain may take part of it, and the next drain takes the rest.
   *
   * @throws IndexOutOfBoundsException if the range is outside {@code [0, size()]}
   * @throws IllegalArgumentException if {@code from > to}
   */
  public void markDirtyRange(long from, long to) {
    checkRange(from, to, size);
    if (from == to) {
      return;
    }
    int first = wordIndex(from);
    int last = wordIndex(to - 1);
    long firstMask = -1L << from;
    long lastMask = -1L >>> -to;
    if (first == last) {
      or(first, firstMask & lastMask);
      return;
    }
    or(first, firstMask);
    for (int u = first + 1; u < last; u++) {
      WORDS.setVolatile(words, u, -1L);
    }
    or(last, lastMask);
  }

  /**
   * Returns whether bit {@code i} is dirty (volatile read). The answer may be stale as soon as it
   * is returned; when it is {@code true}, the writes made before the mark that set the bit are
   * visible to the caller.
   *
   * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
   */
  public boolean isDirty(long i) {
    checkIndex(i, size);
    return ((long) WORDS.getVolatile(words, wordIndex(i)) & (1L << i)) != 0;
  }

  /**
   * Counts the bits set both here and in {@code other}: popcount of the intersection, each word of
   * this bitmap read once (opaque), as {@link #cardinality()}; a word changed meanwhile counts as
   * it was read.
   *
   * @throws IllegalArgumentException if the sizes differ
   */
  public long cardinalityAnd(PageBitmap other) {
    if (other.size() != size) {
      throw new IllegalArgumentException(
          "bitmaps of " + size + " and " + other.size() + " bits cannot be intersected");
    }
    long count = 0;
    long[] mask = other.words;
    for (int u = 0; u < words.length; u++) {
      count += Long.bitCount((long) WORDS.getOpaque(words, u) & mask[u]);
    }
    return count;
  }

  /**
   * Returns the number of dirty bits: a racy snapshot. Each word is read once, so with concurrent
   * marks and drains the result may match no single moment of the log; without them it is exact.
   */
  public long cardinality() {
    long count = 0;
    for (int u = 0; u < words.length; u++) {
      count += Long.bitCount((long) WORDS.getOpaque(words, u));
    }
    return count;
  }

  /**
   * Moves every dirty bit into {@code target} and clears it from this log: for each word, swaps it
   * with 0 and ORs the old value into the target's word (QEMU {@code
   * cpu_physical_memory_sync_dirty_bitmap}). Zero words are skipped without an atomic write.
   *
   * <p>Words are drained in increasing order. See the class documentation for which marks a drain
   * sees. The caller must be {@code target}'s single writer for the duration of the call.
   *
   * @param target the migration bitmap, of the same size as this log
   * @return the number of bits that were clear in {@code target} and are now set
   * @throws IllegalArgumentException if {@code target.size() != size()}
   * @throws NullPointerException if {@code target} is null
   */
  public long drainInto(PageBitmap target) {
    Objects.requireNonNull(target, "target is null");
    if (target.size() != size) {
      throw new IllegalArgumentException(
          "target size " + target.size() + " != dirty log size " + size);
    }
    long[] source = words;
    long[] destination = target.words;
    long added = 0;
    for (int u = 0; u < source.length; u++) {
      if ((long) WORDS.getOpaque(source, u) != 0) {
        long bits = (long) WORDS.getAndSet(source, u, 0L);
        long old = destination[u];
        destination[u] = old | bits;
        added += Long.bitCount(bits & ~old);
      }
    }
    return added;
  }

  /** Atomically ORs {@code mask} into word {@code u} (volatile semantics); returns the old word. */
  private long or(int u, long mask) {
    // The (long) cast makes the call site's type exact, so the VarHandle links without asType.
    return (long) WORDS.getAndBitwiseOr(words, u, mask);
  }
}

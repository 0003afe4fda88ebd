package io.github.precopy.xbzrle;

import java.util.Arrays;

/**
 * QEMU's XBZRLE page cache ({@code migration/page_cache.c}): direct-mapped, one slot per page of
 * its size (a power of two), a page's slot its page number modulo the number of slots. A slot holds
 * the copy of one page, tagged with the page it is, and the age of its last use: the generation
 * (dirty-log sync count) at which it was last inserted or hit. As QEMU's {@code cache_insert}, a
 * slot that holds another page is taken over only if that page has not been used in the last
 * {@value #LIFETIME} generations, so that pages the guest keeps rewriting stay.
 *
 * <p>The copies are kept in one array of slots × 4096 bytes, allocated with the cache. Not
 * thread-safe: the migration thread alone uses it.
 */
final class PageCache {

  /** QEMU's {@code CACHED_PAGE_LIFETIME}: generations a used page is safe from eviction. */
  static final int LIFETIME = 2;

  private static final int PAGE_SHIFT = 12;

  private final int mask;
  private final byte[] data;
  private final int[] blocks;
  private final long[] pages;
  private final long[] ages;

  /**
   * An empty cache of {@code slots} pages.
   *
   * @param slots a power of two, at most 2<sup>18</sup> (1 GiB of pages)
   */
  PageCache(int slots) {
    if (Integer.bitCount(slots) != 1 || slots > 1 << 18) {
      throw new IllegalArgumentException(slots + " slots is not a power of two up to 2^18");
    }
    this.mask = slots - 1;
    this.data = new byte[slots << PAGE_SHIFT];
    this.blocks = new int[slots];
    this.pages = new long[slots];
    this.ages = new long[slots];
    Arrays.fill(blocks, -1);
  }

  /** The array that holds the copies; slot {@code s} is at {@link #offset}{@code (s)}. */
  byte[] data() {
    return data;
  }

  /** Where slot {@code slot}'s copy starts in {@link #data()}. */
  static int offset(int slot) {
    return slot << PAGE_SHIFT;
  }

  /**
   * The slot that holds page {@code page} of block {@code block}, its age set to {@code generation}
   * (QEMU's {@code cache_is_cached}), or -1 if it is not cached.
   *
   * @param key the page's number in the migration's RAM layout, which picks its slot
   */
  int lookup(int block, long page, long key, long generation) {
    int slot = (int) (key & mask);
    if (blocks[slot] != block || pages[slot] != page) {
      return -1;
    }
    ages[slot] = generation;
    return slot;
  }

  /**
   * Caches a copy of {@code src[srcOffset..+4095]} as page {@code page} of block {@code block}, at
   * age {@code generation} (QEMU's {@code cache_insert}), unless its slot holds another page used
   * within the last {@value #LIFETIME} generations.
   *
   * @param src the page's bytes, or null for a page of zeros
   * @return whether the page is cached now
   */
  boolean insert(int block, long page, long key, byte[] src, int srcOffset, long generation) {
    int slot = (int) (key & mask);
    boolean other = blocks[slot] != block || pages[slot] != page;
    if (other && blocks[slot] >= 0 && ages[slot] + LIFETIME > generation) {
      return false;
    }
    int at = offset(slot);
    if (src == null) {
      Arrays.fill(data, at, at + XbzrleEncoding.PAGE_SIZE, (byte) 0);
    } else {
      System.arraycopy(src, srcOffset, data, at, XbzrleEncoding.PAGE_SIZE);
    }
    blocks[slot] = block;
    pages[slot] = page;
    ages[slot] = generation;
    return true;
  }
}

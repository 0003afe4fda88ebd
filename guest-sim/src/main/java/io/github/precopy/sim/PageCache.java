package io.github.precopy.sim;

import java.util.ArrayDeque;

/**
 * A page cache shared by the vCPUs of one guest: blocks kept allocated after they were written,
 * oldest evicted (freed) first once the cache would exceed its cap, or when an allocation needs
 * memory back (reclaim). Thread-safe.
 */
final class PageCache {

  private final long capPages;
  private final ArrayDeque<long[]> blocks = new ArrayDeque<>();
  private long pages;
  private long peakPages;
  private long capEvictions;

  PageCache(long capPages) {
    this.capPages = capPages;
  }

  /** The most pages the cache holds. */
  long capPages() {
    return capPages;
  }

  /** Pages the cache holds now. */
  synchronized long pages() {
    return pages;
  }

  /** The most pages the cache has held at any one time. */
  synchronized long peakPages() {
    return peakPages;
  }

  /** Blocks evicted to keep a new block within the cap (not those reclaimed). */
  synchronized long capEvictions() {
    return capEvictions;
  }

  /**
   * Takes ownership of the block of {@code order} at {@code address}, evicting the oldest blocks to
   * stay within the cap; a block larger than the whole cap is freed at once.
   */
  synchronized void add(BuddyAllocator allocator, long address, int order) {
    long blockPages = 1L << order;
    if (blockPages > capPages) {
      allocator.free(address, order);
      return;
    }
    while (pages + blockPages > capPages) {
      evictOldest(allocator);
      capEvictions++;
    }
    blocks.addLast(new long[] {address, order});
    pages += blockPages;
    peakPages = Math.max(peakPages, pages);
  }

  /**
   * Evicts the oldest blocks until at least {@code wantedPages} pages are freed or the cache is
   * empty.
   *
   * @return the pages freed
   */
  synchronized long reclaim(BuddyAllocator allocator, long wantedPages) {
    long freed = 0;
    while (freed < wantedPages && !blocks.isEmpty()) {
      freed += evictOldest(allocator);
    }
    return freed;
  }

  private long evictOldest(BuddyAllocator allocator) {
    long[] oldest = blocks.removeFirst();
    allocator.free(oldest[0], (int) oldest[1]);
    long freed = 1L << oldest[1];
    pages -= freed;
    return freed;
  }
}

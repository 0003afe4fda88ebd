package io.github.precopy.xbzrle;

import io.github.precopy.spi.PageEncoder;
import io.github.precopy.spi.RamRegion;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * QEMU's {@code save_xbzrle_page} for one migration: encodes a page against the copy its {@link
 * PageCache} holds and keeps that copy equal to what the destination holds.
 *
 * <ul>
 *   <li>Not cached: a cache miss; the page is cached as given (unless its slot holds another page
 *       used lately) and sent whole (-1).
 *   <li>Cached and unchanged: 0, nothing travels.
 *   <li>Cached, changed, and the encoding fits {@link XbzrleEncoding#MAX_ENCODED_BYTES}: the
 *       encoding is written to {@code out} (its position advances by the length) and the copy
 *       updated.
 *   <li>Cached, changed, and the encoding does not fit: an overflow; the copy is updated and the
 *       page sent whole (-1).
 * </ul>
 *
 * <p>A page's slot is picked by its number in the migration's RAM layout: the pages of the blocks
 * before it ({@link RamRegion#lengthBytes()}, in {@code ramRegions()} order) plus its index in its
 * block, as QEMU picks it by the page's {@code ram_addr_t}. The slot is tagged with the block and
 * page, so a page never matches another's copy. The cache's age is the count of dirty-log syncs
 * ({@link #sync()}), QEMU's {@code dirty_sync_count}.
 *
 * <p>The cache is allocated at the first page the encoder hears of (the bulk round asks it nothing)
 * and released by {@link #close()}. It relies on the {@link PageEncoder} contract: {@code data}
 * holds still during the call and a page it declines travels as exactly those bytes. Confined to
 * the migration thread.
 */
final class XbzrleEncoder implements PageEncoder {

  private final long[] firstPages;
  private final int slots;
  private final XbzrleCounters counters;
  private final byte[] encoding = new byte[XbzrleEncoding.MAX_ENCODED_BYTES];
  private PageCache cache;
  private long generation;
  private boolean closed;

  XbzrleEncoder(List<RamRegion> regions, int slots, XbzrleCounters counters) {
    this.firstPages = new long[regions.size()];
    long pages = 0;
    for (int i = 0; i < firstPages.length; i++) {
      firstPages[i] = pages;
      pages += regions.get(i).lengthBytes() / XbzrleEncoding.PAGE_SIZE;
    }
    this.slots = slots;
    this.counters = counters;
  }

  @Override
  public int encode(int block, long page, byte[] data, int offset, ByteBuffer out) {
    PageCache pages = cache();
    long key = key(block, page);
    int slot = pages.lookup(block, page, key, generation);
    if (slot < 0) {
      counters.miss();
      pages.insert(block, page, key, data, offset, generation);
      return -1;
    }
    byte[] copies = pages.data();
    int copy = PageCache.offset(slot);
    int length =
        XbzrleEncoding.encode(
            copies, copy, data, offset, encoding, XbzrleEncoding.MAX_ENCODED_BYTES);
    if (length == 0) {
      counters.unchanged();
      return 0;
    }
    System.arraycopy(data, offset, copies, copy, XbzrleEncoding.PAGE_SIZE);
    if (length < 0) {
      counters.overflow();
      return -1;
    }
    out.put(encoding, 0, length);
    counters.encoded(length);
    return length;
  }

  /** Caches a page of zeros for the page (QEMU's {@code xbzrle_cache_zero_page}). */
  @Override
  public void zeroSent(int block, long page) {
    counters.zeroPage();
    cache().insert(block, page, key(block, page), null, 0, generation);
  }

  /** Notes a dirty-log sync: the cache's pages age by one generation. */
  void sync() {
    generation++;
  }

  /** Releases the cache; the encoder is not to be used any more. */
  void close() {
    closed = true;
    cache = null;
  }

  private PageCache cache() {
    if (cache == null) {
      if (closed) {
        throw new IllegalStateException("the XBZRLE encoder of this migration is closed");
      }
      cache = new PageCache(slots);
    }
    return cache;
  }

  private long key(int block, long page) {
    if (block < 0 || block >= firstPages.length) {
      throw new IllegalArgumentException(
          "block " + block + " is not among the " + firstPages.length + " RAM blocks");
    }
    return firstPages[block] + page;
  }
}

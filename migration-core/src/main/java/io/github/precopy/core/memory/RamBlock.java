package io.github.precopy.core.memory;

import io.github.precopy.bitmap.AtomicPageBitmap;
import io.github.precopy.bitmap.PageBitmap;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * One contiguous range of guest RAM (QEMU's {@code RAMBlock}): a name, a guest-physical base
 * address, a used length of whole 4 KiB pages, off-heap storage and a dirty log with one bit per
 * page. Its public methods only read: guest code writes through {@link GuestMemory}, which marks
 * every page it writes in the dirty log, and a migration drains the log through a {@link
 * DirtyTracker}. An {@linkplain #isApplicationMapped application-mapped} block is memory the
 * application maps and writes itself; only kernel tracking sees those writes.
 *
 * <p>Layout: the storage is a list of mapped chunks of {@link #CHUNK_BYTES} each (the last may be
 * shorter); a page never straddles two chunks. Page-level methods are safe to call from several
 * threads on different pages; concurrent access to the same page has no ordering beyond that of the
 * underlying memory. No method may be called after the owning {@link GuestMemory} is closed.
 */
public final class RamBlock {

  /** Bytes per chunk of storage: 1 GiB, so a page never crosses a chunk. */
  static final int CHUNK_SHIFT = 30;

  static final long CHUNK_BYTES = 1L << CHUNK_SHIFT;

  private static final ByteBuffer ZERO_PAGE = ByteBuffer.allocateDirect(GuestMemory.PAGE_SIZE);
  private static final int ZERO_PAGE_CHECKSUM = checksumOfZeroPage();

  private final String name;
  private final int id;
  private final long guestAddress;
  private final long usedLength;
  private final ByteBuffer[] chunks;
  private final Path backing;
  private final boolean applicationMapped;
  private final AtomicPageBitmap dirtyLog;

  /** Whether writes through {@link GuestMemory} mark the dirty log: not while the kernel tracks. */
  private volatile boolean softwareLog = true;

  /**
   * Pages ever stored to since the block was mapped (all of them for a file-backed block, whose
   * contents are unknown). A page never stored to reads as zero, so it is known to be zero without
   * touching it: reading an untouched page of a shared mapping would allocate it, which the kernel
   * spares anonymous guest RAM through its shared zero page.
   */
  private final AtomicPageBitmap populated;

  RamBlock(
      String name,
      int id,
      long guestAddress,
      long usedLength,
      ByteBuffer[] chunks,
      Path backing,
      boolean populatedAtStart,
      boolean applicationMapped) {
    this.name = name;
    this.id = id;
    this.guestAddress = guestAddress;
    this.usedLength = usedLength;
    this.chunks = chunks;
    this.backing = backing;
    this.applicationMapped = applicationMapped;
    long pages = usedLength >>> GuestMemory.PAGE_SHIFT;
    this.dirtyLog = new AtomicPageBitmap(pages);
    this.populated = new AtomicPageBitmap(pages);
    if (populatedAtStart) {
      populated.markDirtyRange(0, pages);
    }
  }

  /** The block's unique name. */
  public String name() {
    return name;
  }

  /** The block's index in {@link GuestMemory#blocks()}, also its id in the migration stream. */
  public int id() {
    return id;
  }

  /** Guest-physical address of the block's first byte. */
  public long guestAddress() {
    return guestAddress;
  }

  /** Used length in bytes, a whole number of pages. */
  public long usedLength() {
    return usedLength;
  }

  /** Number of pages in the block. */
  public long pageCount() {
    return usedLength >>> GuestMemory.PAGE_SHIFT;
  }

  /**
   * Whether the application maps this block's memory and writes it itself, not through {@link
   * GuestMemory}: see {@link GuestMemory.Builder#applicationBlock}.
   */
  public boolean isApplicationMapped() {
    return applicationMapped;
  }

  /** Whether {@code address} (guest-physical) lies inside this block. */
  public boolean contains(long address) {
    return address >= guestAddress && address - guestAddress < usedLength;
  }

  /** Moves the pages written since the last drain into {@code target}: see {@link DirtyTracker}. */
  long drainDirtyLog(PageBitmap target) {
    return dirtyLog.drainInto(target);
  }

  /**
   * Copies one page into {@code dst} at {@code dstOffset}. Does not touch the dirty log.
   *
   * @param page page index within the block
   */
  public void readPage(long page, byte[] dst, int dstOffset) {
    checkPage(page);
    long offset = page << GuestMemory.PAGE_SHIFT;
    chunk(offset).get(chunkOffset(offset), dst, dstOffset, GuestMemory.PAGE_SIZE);
  }

  /**
   * Copies one page into {@code dst} at its position, which advances by a page. Does not touch the
   * dirty log.
   *
   * @throws java.nio.BufferOverflowException if fewer than 4096 bytes remain in {@code dst}
   */
  public void readPage(long page, ByteBuffer dst) {
    checkPage(page);
    long offset = page << GuestMemory.PAGE_SHIFT;
    int at = dst.position();
    if (dst.limit() - at < GuestMemory.PAGE_SIZE) {
      throw new BufferOverflowException();
    }
    dst.put(at, chunk(offset), chunkOffset(offset), GuestMemory.PAGE_SIZE);
    dst.position(at + GuestMemory.PAGE_SIZE);
  }

  /**
   * The CRC32C of the page's bytes; a page never stored to is zero and is not read. Does not touch
   * the dirty log.
   */
  public int pageChecksum(long page) {
    checkPage(page);
    if (!populated.isDirty(page)) {
      return ZERO_PAGE_CHECKSUM;
    }
    long offset = page << GuestMemory.PAGE_SHIFT;
    CRC32C crc = new CRC32C();
    crc.update(chunk(offset).slice(chunkOffset(offset), GuestMemory.PAGE_SIZE));
    return (int) crc.getValue();
  }

  /** Whether the page has ever been stored to; a page never stored to is zero. */
  public boolean isWritten(long page) {
    checkPage(page);
    return populated.isDirty(page);
  }

  /**
   * How many of {@code pages} (one bit per page of this block) have ever been stored to; the rest
   * are zero and cost almost nothing to send.
   *
   * @throws IllegalArgumentException if {@code pages} is not the block's size
   */
  public long writtenAmong(PageBitmap pages) {
    return populated.cardinalityAnd(pages);
  }

  /** Whether every byte of the page is zero; a page never stored to is, without being read. */
  public boolean isZeroPage(long page) {
    checkPage(page);
    if (!populated.isDirty(page)) {
      return true;
    }
    long offset = page << GuestMemory.PAGE_SHIFT;
    return chunk(offset).slice(chunkOffset(offset), GuestMemory.PAGE_SIZE).mismatch(ZERO_PAGE) < 0;
  }

  /** Whether the page holds the same bytes as page {@code page} of {@code other}. */
  public boolean samePage(long page, RamBlock other) {
    checkPage(page);
    other.checkPage(page);
    if (!populated.isDirty(page) && !other.populated.isDirty(page)) {
      return true;
    }
    long offset = page << GuestMemory.PAGE_SHIFT;
    ByteBuffer mine = chunk(offset).slice(chunkOffset(offset), GuestMemory.PAGE_SIZE);
    ByteBuffer theirs = other.chunk(offset).slice(chunkOffset(offset), GuestMemory.PAGE_SIZE);
    return mine.mismatch(theirs) < 0;
  }

  // Guest access at block-relative offsets; GuestMemory has checked the bounds.

  void writeBytes(long offset, byte[] src, int srcOffset, int length) {
    int done = 0;
    while (done < length) {
      long at = offset + done;
      int n = (int) Math.min(length - done, CHUNK_BYTES - chunkOffset(at));
      chunk(at).put(chunkOffset(at), src, srcOffset + done, n);
      done += n;
    }
    markWritten(offset, length);
  }

  void writeLong(long offset, long value) {
    chunk(offset).putLong(chunkOffset(offset), value);
    long page = offset >>> GuestMemory.PAGE_SHIFT;
    populated.markDirty(page);
    if (softwareLog) {
      dirtyLog.markDirty(page);
    }
  }

  void fill(long offset, long length, byte value) {
    fillBytes(offset, length, value);
    markWritten(offset, length);
  }

  /** The page's bytes as a writable buffer, marked populated first: see GuestMemory.landingPage. */
  ByteBuffer landingPage(long page) {
    checkPage(page);
    populated.markDirty(page);
    long offset = page << GuestMemory.PAGE_SHIFT;
    return chunk(offset).slice(chunkOffset(offset), GuestMemory.PAGE_SIZE);
  }

  /** The bytes that landed in the page are good: it is written, as by a guest store. */
  void landed(long page) {
    checkPage(page);
    markWritten(page << GuestMemory.PAGE_SHIFT, GuestMemory.PAGE_SIZE);
  }

  void readBytes(long offset, byte[] dst, int dstOffset, int length) {
    int done = 0;
    while (done < length) {
      long at = offset + done;
      int n = (int) Math.min(length - done, CHUNK_BYTES - chunkOffset(at));
      chunk(at).get(chunkOffset(at), dst, dstOffset + done, n);
      done += n;
    }
  }

  long readLong(long offset) {
    return chunk(offset).getLong(chunkOffset(offset));
  }

  ByteBuffer[] chunks() {
    return chunks;
  }

  /** The storage, in order, for a tracker that watches it: every chunk but the last is 1 GiB. */
  List<ByteBuffer> regions() {
    return Arrays.asList(chunks);
  }

  /** Whether writes through {@link GuestMemory} mark the dirty log; off while the kernel tracks. */
  void softwareLog(boolean on) {
    softwareLog = on;
  }

  /**
   * The file behind a file-backed block; the directory of an anonymous block's deleted file; null
   * for an application-mapped block.
   */
  Path backing() {
    return backing;
  }

  private void fillBytes(long offset, long length, byte value) {
    long longValue = (value & 0xFFL) * 0x0101010101010101L;
    long end = offset + length;
    long at = offset;
    while (at < end && (at & 7) != 0) {
      chunk(at).put(chunkOffset(at), value);
      at++;
    }
    for (; at + Long.BYTES <= end; at += Long.BYTES) {
      chunk(at).putLong(chunkOffset(at), longValue);
    }
    for (; at < end; at++) {
      chunk(at).put(chunkOffset(at), value);
    }
  }

  /**
   * Stores a zero into the first byte of every page of {@code [from, to)} never written, so that
   * the kernel allocates it, and marks those pages populated: see {@link GuestMemory#preallocate}.
   */
  void touchUnwritten(long from, long to) {
    for (long page = from; page < to; page++) {
      if (!populated.isDirty(page)) {
        long offset = page << GuestMemory.PAGE_SHIFT;
        chunk(offset).put(chunkOffset(offset), (byte) 0);
        populated.markDirty(page);
      }
    }
  }

  /** After a guest store: the pages are populated and dirty, in that order. */
  private void markWritten(long offset, long length) {
    if (length > 0) {
      long first = offset >>> GuestMemory.PAGE_SHIFT;
      long end = ((offset + length - 1) >>> GuestMemory.PAGE_SHIFT) + 1;
      populated.markDirtyRange(first, end);
      if (softwareLog) {
        dirtyLog.markDirtyRange(first, end);
      }
    }
  }

  private ByteBuffer chunk(long offset) {
    return chunks[(int) (offset >>> CHUNK_SHIFT)];
  }

  private static int chunkOffset(long offset) {
    return (int) (offset & (CHUNK_BYTES - 1));
  }

  private void checkPage(long page) {
    if (page < 0 || page >= pageCount()) {
      throw new IndexOutOfBoundsException(
          "page " + page + " out of range [0, " + pageCount() + ") of RAM block " + name);
    }
  }

  private static int checksumOfZeroPage() {
    CRC32C crc = new CRC32C();
    crc.update(new byte[GuestMemory.PAGE_SIZE]);
    return (int) crc.getValue();
  }

  @Override
  public String toString() {
    return "RamBlock[" + name + " @0x" + Long.toHexString(guestAddress) + ", " + usedLength + " B]";
  }
}

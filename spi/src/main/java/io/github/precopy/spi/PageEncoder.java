package io.github.precopy.spi;

import java.nio.ByteBuffer;

/**
 * Encodes pages that the source sends again, such as QEMU's XBZRLE (a delta against the copy sent
 * before). One encoder serves one migration ({@link MigrationOptimization#pageEncoder()}); the
 * engine calls it on the migration thread only, for pages sent after the bulk round (as QEMU), and
 * sends the page whole when it declines.
 *
 * <p>The encoder learns everything the destination comes to hold for the pages it is asked about: a
 * page it declines travels as exactly the bytes given to {@link #encode}, and a page found to be
 * all zeros travels as a zero record, reported by {@link #zeroSent}. An encoder that keeps copies
 * of pages (a cache) thus keeps exactly what the destination holds.
 */
public interface PageEncoder {

  /**
   * Encodes page {@code page} of RAM block {@code block}.
   *
   * @param block the block's index in the migration's RAM layout
   * @param page the page's index in the block
   * @param data the page's bytes, {@code data[offset]} to {@code data[offset + 4095]}; not to be
   *     modified
   * @param out where to write the encoding, from its position, with at least {@link
   *     PageCodec#maxEncodedBytes()} bytes remaining
   * @return the number of bytes written; 0 if the page equals the copy the destination holds, so
   *     nothing needs to travel (as QEMU skips an unmodified page); or -1 to send the page whole
   *     (nothing written): the page was not known yet, or its encoding would not be smaller
   */
  int encode(int block, long page, byte[] data, int offset, ByteBuffer out);

  /**
   * Notes that page {@code page} of block {@code block} travelled as a zero record after the bulk
   * round, so the destination now holds zeros there (QEMU's {@code xbzrle_cache_zero_page}).
   */
  void zeroSent(int block, long page);
}

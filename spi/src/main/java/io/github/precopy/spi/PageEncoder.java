package io.github.precopy.spi;

import java.nio.ByteBuffer;

/**
 * Encodes pages that the source sends again, such as QEMU's XBZRLE (a delta against the copy sent
 * before). One encoder serves one migration; the engine calls it on the migration thread only, for
 * pages sent after the bulk round (as QEMU), and sends the page whole when it declines.
 *
 * <p>The bytes given are the ones that travel if the page goes whole: an encoder that keeps a copy
 * of what it saw (a cache) keeps exactly what the destination will hold.
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
   * @return the number of bytes written, or -1 to send the page whole (nothing written): the page
   *     was not known yet, or its encoding would not be smaller
   */
  int encode(int block, long page, byte[] data, int offset, ByteBuffer out);
}

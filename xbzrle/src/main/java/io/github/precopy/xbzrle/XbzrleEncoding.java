package io.github.precopy.xbzrle;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * QEMU's XBZRLE format ({@code migration/xbzrle.c}, {@code docs/xbzrle.txt}), byte for byte: the
 * XOR of the old and the new page as alternating runs, a zero run (bytes that did not change) as
 * its ULEB128 length, then a nonzero run as its ULEB128 length followed by the new bytes of the
 * run. The first zero run may be empty (the page changed at byte 0), every later run is at least
 * one byte long, and the zero run that ends a page is not written. Lengths are ULEB128 of at most
 * two bytes (at most 16383, QEMU's {@code uleb128_encode_small}).
 *
 * <p>Stateless and thread-safe.
 */
final class XbzrleEncoding {

  /** The page size in bytes. */
  static final int PAGE_SIZE = 4096;

  /**
   * The most bytes an encoding may take: one less than a page, so that an encoded page is always
   * smaller than the page, and the most the stream carries in an encoded record.
   */
  static final int MAX_ENCODED_BYTES = PAGE_SIZE - 1;

  /** The largest length a two-byte ULEB128 holds. */
  static final int MAX_LENGTH = 0x3fff;

  private static final int SIZE_SHIFT = 16;
  private static final int LENGTH_MASK = (1 << SIZE_SHIFT) - 1;

  private XbzrleEncoding() {}

  /**
   * Encodes the change from {@code old[oldOffset..+4095]} to {@code cur[curOffset..+4095]} into
   * {@code dst} from index 0, as QEMU's {@code xbzrle_encode_buffer} with {@code dlen} = {@code
   * limit}, including where it gives up: before each zero run it needs two bytes of room, before
   * each nonzero run's length two bytes, and room for the run's bytes after it.
   *
   * @param dst at least {@code limit} bytes
   * @return the encoded length; 0 if the pages are equal; -1 if the encoding does not fit {@code
   *     limit} bytes ({@code dst} then holds a partial encoding)
   */
  static int encode(byte[] old, int oldOffset, byte[] cur, int curOffset, byte[] dst, int limit) {
    Objects.checkFromIndexSize(oldOffset, PAGE_SIZE, old.length);
    Objects.checkFromIndexSize(curOffset, PAGE_SIZE, cur.length);
    Objects.checkFromIndexSize(0, limit, dst.length);
    int d = 0;
    int i = 0;
    while (i < PAGE_SIZE) {
      if (d + 2 > limit) {
        return -1;
      }
      int zeroRun =
          Arrays.mismatch(
              old, oldOffset + i, oldOffset + PAGE_SIZE, cur, curOffset + i, curOffset + PAGE_SIZE);
      if (zeroRun < 0) {
        zeroRun = PAGE_SIZE - i;
      }
      i += zeroRun;
      if (zeroRun == PAGE_SIZE) {
        return 0;
      }
      if (i == PAGE_SIZE) {
        return d;
      }
      d += writeLength(dst, d, zeroRun);
      if (d + 2 > limit) {
        return -1;
      }
      int start = i;
      while (i < PAGE_SIZE && old[oldOffset + i] != cur[curOffset + i]) {
        i++;
      }
      int nonzeroRun = i - start;
      d += writeLength(dst, d, nonzeroRun);
      if (d + nonzeroRun > limit) {
        return -1;
      }
      System.arraycopy(cur, curOffset + start, dst, d, nonzeroRun);
      d += nonzeroRun;
    }
    return d;
  }

  /**
   * Rewrites {@code page[offset..+4095]} by the encoding in {@code encoded}'s remaining bytes, as
   * QEMU's {@code xbzrle_decode_buffer}: a zero run keeps the bytes the page holds, a nonzero run
   * writes its new bytes over them. The encoding is checked whole before the page is touched, so a
   * refused one leaves the page as it was; an accepted one advances {@code encoded}'s position to
   * its limit. An empty encoding leaves the page as it is (QEMU accepts it too).
   *
   * @throws IllegalArgumentException if the encoding is malformed: a length cut short, a ULEB128
   *     longer than two bytes, an empty run other than the first zero run, a run past the end of
   *     the page or a nonzero run past the end of the encoding
   */
  static void decode(ByteBuffer encoded, byte[] page, int offset) {
    Objects.checkFromIndexSize(offset, PAGE_SIZE, page.length);
    apply(encoded, page, offset, false);
    apply(encoded, page, offset, true);
    encoded.position(encoded.limit());
  }

  private static void apply(ByteBuffer encoded, byte[] page, int offset, boolean write) {
    int base = encoded.position();
    int length = encoded.remaining();
    int i = 0;
    int d = 0;
    while (i < length) {
      int zeroAt = i;
      int zeroLength = readLength(encoded, base, length, i, "zero run");
      int zeroRun = zeroLength & LENGTH_MASK;
      i += zeroLength >>> SIZE_SHIFT;
      if (zeroAt > 0 && zeroRun == 0) {
        throw malformed("empty zero run", zeroAt);
      }
      d += zeroRun;
      if (d > PAGE_SIZE) {
        throw malformed("zero run to byte " + d + ", past the page of " + PAGE_SIZE, zeroAt);
      }
      int nonzeroAt = i;
      int nonzeroLength = readLength(encoded, base, length, i, "nonzero run");
      int nonzeroRun = nonzeroLength & LENGTH_MASK;
      i += nonzeroLength >>> SIZE_SHIFT;
      if (nonzeroRun == 0) {
        throw malformed("empty nonzero run", nonzeroAt);
      }
      if (d + nonzeroRun > PAGE_SIZE) {
        throw malformed(
            "nonzero run to byte " + (d + nonzeroRun) + ", past the page of " + PAGE_SIZE,
            nonzeroAt);
      }
      if (nonzeroRun > length - i) {
        throw malformed(
            "nonzero run of " + nonzeroRun + " bytes with " + (length - i) + " left", nonzeroAt);
      }
      if (write) {
        encoded.get(base + i, page, offset + d, nonzeroRun);
      }
      d += nonzeroRun;
      i += nonzeroRun;
    }
  }

  /**
   * Reads the length at {@code encoded[base + i]}, as QEMU's {@code uleb128_decode_small} behind
   * {@code xbzrle_decode_buffer}'s check that two bytes remain (every run needs two at least).
   *
   * @return the length in the low bits ({@link #LENGTH_MASK}), the bytes it took (1 or 2) from bit
   *     {@link #SIZE_SHIFT} on
   */
  private static int readLength(ByteBuffer encoded, int base, int length, int i, String run) {
    if (length - i < 2) {
      throw malformed(run + " length cut short", i);
    }
    int first = encoded.get(base + i) & 0xff;
    if (first < 0x80) {
      return 1 << SIZE_SHIFT | first;
    }
    int second = encoded.get(base + i + 1) & 0xff;
    if (second >= 0x80) {
      throw malformed(run + " length longer than two bytes", i);
    }
    return 2 << SIZE_SHIFT | second << 7 | first & 0x7f;
  }

  /**
   * Writes {@code n} as ULEB128 at {@code dst[at]}, as QEMU's {@code uleb128_encode_small}.
   *
   * @return the bytes written, 1 or 2
   * @throws IllegalArgumentException if {@code n} is negative or above {@link #MAX_LENGTH}
   */
  static int writeLength(byte[] dst, int at, int n) {
    if (n < 0 || n > MAX_LENGTH) {
      throw new IllegalArgumentException("length " + n + " is not 0 to " + MAX_LENGTH);
    }
    if (n < 0x80) {
      dst[at] = (byte) n;
      return 1;
    }
    dst[at] = (byte) (n & 0x7f | 0x80);
    dst[at + 1] = (byte) (n >>> 7);
    return 2;
  }

  private static IllegalArgumentException malformed(String what, int at) {
    return new IllegalArgumentException("malformed XBZRLE encoding at byte " + at + ": " + what);
  }
}

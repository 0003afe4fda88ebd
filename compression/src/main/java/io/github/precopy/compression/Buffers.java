package io.github.precopy.compression;

import java.nio.ByteBuffer;

/** Checks and messages shared by the codecs. */
final class Buffers {

  private Buffers() {}

  /** Input that a codec drops the caller's buffer for. */
  static final byte[] EMPTY = new byte[0];

  /**
   * {@code bound}, the most bytes a codec writes for {@code length} bytes of input, as an {@code
   * int}.
   *
   * @throws IllegalArgumentException if {@code length} is negative or the bound exceeds an int
   */
  static int bound(int length, long bound) {
    if (length < 0 || bound > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("length out of range: " + length);
    }
    return (int) bound;
  }

  /**
   * The compressor's target has less room than {@link io.github.precopy.spi.FrameCodec}'s bound.
   */
  static IllegalArgumentException targetTooSmall(String codec, int needed, ByteBuffer target) {
    return new IllegalArgumentException(
        codec
            + " compressor needs "
            + needed
            + " bytes of room in the target, which has "
            + target.remaining());
  }

  /** The input is malformed. */
  static IllegalArgumentException malformed(String codec, String reason) {
    return new IllegalArgumentException(codec + " frame does not decompress: " + reason);
  }

  /** The input decompresses to more than the target holds. */
  static IllegalArgumentException tooLarge(String codec, String size, ByteBuffer target) {
    return malformed(
        codec,
        "it decompresses to "
            + size
            + " bytes, more than the "
            + target.remaining()
            + " bytes left in the target");
  }
}

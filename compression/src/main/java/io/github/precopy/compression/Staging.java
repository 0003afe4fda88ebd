package io.github.precopy.compression;

import java.nio.ByteBuffer;

/**
 * Arrays for a library that takes {@code byte[]}: a buffer with an accessible array is used in
 * place; any other (direct, or read-only) is copied through a scratch array, grown to the largest
 * frame seen. The input scratch is sized by the bytes actually given, the output scratch by the
 * target's room, never by a length read from the input. One per thread.
 */
final class Staging {
  private byte[] input = Buffers.EMPTY;
  private byte[] output = Buffers.EMPTY;
  private boolean staged;

  /** The array holding {@code source}'s remaining bytes; does not move its position. */
  byte[] input(ByteBuffer source) {
    if (source.hasArray()) {
      return source.array();
    }
    if (input.length < source.remaining()) {
      input = new byte[source.remaining()];
    }
    source.duplicate().get(input, 0, source.remaining());
    return input;
  }

  /** Where {@code source}'s remaining bytes start in {@link #input}'s array. */
  int inputOffset(ByteBuffer source) {
    return source.hasArray() ? source.arrayOffset() + source.position() : 0;
  }

  /** The array to write up to {@code length} bytes of {@code target} into. */
  byte[] output(ByteBuffer target, int length) {
    staged = !target.hasArray();
    if (!staged) {
      return target.array();
    }
    if (output.length < length) {
      output = new byte[length];
    }
    return output;
  }

  /** Where to write in {@link #output}'s array. */
  int outputOffset(ByteBuffer target) {
    return staged ? 0 : target.arrayOffset() + target.position();
  }

  /** Copies {@code length} staged bytes into {@code target}; does not move its position. */
  void flush(ByteBuffer target, int length) {
    if (staged) {
      target.duplicate().put(output, 0, length);
    }
  }
}

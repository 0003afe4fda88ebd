package io.github.precopy.core.stream;

import static io.github.precopy.core.stream.StreamFormat.FRAME_HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MAX_FRAME_BYTES;

import io.github.precopy.spi.FrameCodec;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One channel's frame compression: compresses each frame after the header into a buffer of its own,
 * which is then framed and checksummed as it travels. Used by the channel's writing thread only;
 * its byte counts may be read from any thread.
 */
final class FrameCompression {

  private final FrameCodec codec;
  private final FrameCodec.Compressor compressor;
  private final ByteBuffer target;
  private volatile long wireBytes;

  /**
   * @param target a buffer of at least {@code codec.maxCompressedLength} of the largest frame
   */
  FrameCompression(FrameCodec codec, FrameCodec.Compressor compressor, ByteBuffer target) {
    this.codec = codec;
    this.compressor = compressor;
    this.target = target;
  }

  /** Compresses {@code payload}'s remaining bytes; returns the compressed frame, ready to read. */
  ByteBuffer compress(ByteBuffer payload) throws IOException {
    target.clear();
    try {
      compressor.compress(payload, target);
    } catch (RuntimeException e) {
      throw new IOException(codec.name() + " failed to compress a frame: " + e.getMessage(), e);
    }
    target.flip();
    if (target.remaining() == 0 || target.remaining() > MAX_FRAME_BYTES) {
      throw new IOException(
          codec.name() + " compressed a frame to " + target.remaining() + " bytes, not 1 to 1 MiB");
    }
    wireBytes += FRAME_HEADER_BYTES + target.remaining();
    return target;
  }

  /** Bytes of the compressed frames so far, frame headers included. */
  long wireBytes() {
    return wireBytes;
  }
}

package io.github.precopy.compression;

import io.github.precopy.spi.FrameCodec;
import java.nio.ByteBuffer;
import java.util.Map;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * {@code lz4}: lz4-java's fastest instance (JNI where the platform has its library, else Java), the
 * fast compressor (LZ4's default acceleration; no level) and the safe decompressor.
 *
 * <p>A frame body is the original length as a big-endian 32-bit int, then one LZ4 block (the raw
 * block format, no LZ4 frame header or checksum: the stream checksums every frame already). The
 * block format does not carry the length, and with it the decompressor refuses a frame that would
 * not fit before decompressing and one that decodes to another length.
 */
final class Lz4Codec implements FrameCodec {

  static final String NAME = "lz4";

  /** The original length before the block. */
  static final int HEADER_BYTES = 4;

  @Override
  public String name() {
    return NAME;
  }

  /** LZ4's {@code LZ4_COMPRESSBOUND} plus the 4-byte header. */
  @Override
  public int maxCompressedLength(int length) {
    return Buffers.bound(length, HEADER_BYTES + (long) length + length / 255 + 16);
  }

  @Override
  public Compressor compressor(Map<String, String> options) {
    return new Lz4Compressor(Library.FACTORY.fastCompressor());
  }

  @Override
  public Decompressor decompressor() {
    return new Lz4Decompressor(Library.FACTORY.safeDecompressor());
  }

  /** Loads the native library on first use, not when the provider is instantiated. */
  private static final class Library {
    static final LZ4Factory FACTORY = LZ4Factory.fastestInstance();
  }

  private final class Lz4Compressor implements Compressor {
    private final LZ4Compressor compressor;

    Lz4Compressor(LZ4Compressor compressor) {
      this.compressor = compressor;
    }

    @Override
    public int compress(ByteBuffer source, ByteBuffer target) {
      int length = source.remaining();
      int needed = maxCompressedLength(length);
      if (target.remaining() < needed) {
        throw Buffers.targetTooSmall(NAME, needed, target);
      }
      int start = target.position();
      target.putInt(start, length);
      int block =
          compressor.compress(
              source,
              source.position(),
              length,
              target,
              start + HEADER_BYTES,
              needed - HEADER_BYTES);
      source.position(source.limit());
      target.position(start + HEADER_BYTES + block);
      return HEADER_BYTES + block;
    }
  }

  private static final class Lz4Decompressor implements Decompressor {
    private final LZ4SafeDecompressor decompressor;

    Lz4Decompressor(LZ4SafeDecompressor decompressor) {
      this.decompressor = decompressor;
    }

    @Override
    public int decompress(ByteBuffer source, ByteBuffer target) {
      int inLength = source.remaining() - HEADER_BYTES;
      if (inLength < 1) {
        throw Buffers.malformed(NAME, "it is shorter than a header and a block");
      }
      int length = source.getInt(source.position());
      if (length < 0) {
        throw Buffers.malformed(NAME, "negative length " + length);
      }
      if (length > target.remaining()) {
        throw Buffers.tooLarge(NAME, String.valueOf(length), target);
      }
      int written;
      try {
        written =
            decompressor.decompress(
                source,
                source.position() + HEADER_BYTES,
                inLength,
                target,
                target.position(),
                length);
      } catch (LZ4Exception e) {
        throw Buffers.malformed(NAME, e.getMessage());
      }
      if (written != length) {
        throw Buffers.malformed(
            NAME, "it declares " + length + " bytes but decompresses to " + written);
      }
      source.position(source.limit());
      target.position(target.position() + length);
      return length;
    }
  }
}

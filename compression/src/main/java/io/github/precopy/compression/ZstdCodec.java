package io.github.precopy.compression;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import io.github.precopy.spi.FrameCodec;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * {@code zstd}: zstd-jni (the reference C library through JNI) at level {@code multifd-zstd-level}.
 * A frame body is one zstd frame (RFC 8878) that records its content size, nothing after it.
 */
final class ZstdCodec implements FrameCodec {

  static final String NAME = "zstd";

  /** {@code ZSTD_CONTENTSIZE_UNKNOWN} and {@code ZSTD_CONTENTSIZE_ERROR}, as Java longs. */
  private static final long CONTENT_SIZE_UNKNOWN = -1;

  private static final long CONTENT_SIZE_ERROR = -2;

  @Override
  public String name() {
    return NAME;
  }

  /** zstd's {@code ZSTD_COMPRESSBOUND}. */
  @Override
  public int maxCompressedLength(int length) {
    long margin = length < (128 << 10) ? ((128 << 10) - length) >>> 11 : 0;
    return Buffers.bound(length, (long) length + (length >>> 8) + margin);
  }

  @Override
  public Compressor compressor(Map<String, String> options) {
    return new ZstdCompressor(CompressionParameters.zstdLevel(options));
  }

  @Override
  public Decompressor decompressor() {
    return new ZstdDecompressor();
  }

  /**
   * Both ends use a reusable native context per channel, freed by zstd-jni's cleaner when it
   * becomes unreachable. zstd-jni takes either two arrays or two direct buffers: a mixed pair goes
   * through a heap copy of the side that has no array.
   */
  private final class ZstdCompressor implements Compressor {
    private final ZstdCompressCtx context;
    private final Staging staging = new Staging();

    ZstdCompressor(int level) {
      context = new ZstdCompressCtx().setLevel(level);
    }

    @Override
    public int compress(ByteBuffer source, ByteBuffer target) {
      int needed = maxCompressedLength(source.remaining());
      if (target.remaining() < needed) {
        throw Buffers.targetTooSmall(NAME, needed, target);
      }
      int length;
      if (source.isDirect() && target.isDirect()) {
        length =
            context.compressDirectByteBuffer(
                target,
                target.position(),
                target.remaining(),
                source,
                source.position(),
                source.remaining());
      } else {
        byte[] in = staging.input(source);
        int inOffset = staging.inputOffset(source);
        byte[] out = staging.output(target, needed);
        int outOffset = staging.outputOffset(target);
        length =
            context.compressByteArray(out, outOffset, needed, in, inOffset, source.remaining());
        staging.flush(target, length);
      }
      source.position(source.limit());
      target.position(target.position() + length);
      return length;
    }
  }

  private static final class ZstdDecompressor implements Decompressor {
    private final ZstdDecompressCtx context = new ZstdDecompressCtx();
    private final Staging staging = new Staging();

    @Override
    public int decompress(ByteBuffer source, ByteBuffer target) {
      if (!source.hasRemaining()) {
        throw Buffers.malformed(NAME, "it is empty");
      }
      try {
        return decompressFrame(source, target);
      } catch (ZstdException e) {
        throw Buffers.malformed(NAME, e.getMessage());
      }
    }

    private int decompressFrame(ByteBuffer source, ByteBuffer target) {
      int capacity = target.remaining();
      int inLength = source.remaining();
      boolean direct = source.isDirect() && target.isDirect();
      byte[] in = direct ? null : staging.input(source);
      int inOffset = direct ? 0 : staging.inputOffset(source);
      long frameLength =
          direct
              ? Zstd.findFrameCompressedSize(source)
              : Zstd.findFrameCompressedSize(in, inOffset, inLength);
      if (Zstd.isError(frameLength)) {
        throw Buffers.malformed(NAME, Zstd.getErrorName(frameLength));
      }
      if (frameLength != inLength) {
        throw Buffers.malformed(
            NAME, inLength - frameLength + " bytes follow the end of the zstd frame");
      }
      long contentSize =
          direct
              ? Zstd.getDirectByteBufferFrameContentSize(source, source.position(), inLength)
              : Zstd.getFrameContentSize(in, inOffset, inLength);
      if (contentSize == CONTENT_SIZE_ERROR) {
        throw Buffers.malformed(NAME, "unreadable frame header");
      }
      // An unknown size is allowed: the decompression itself is bounded by the capacity.
      if (contentSize != CONTENT_SIZE_UNKNOWN && Long.compareUnsigned(contentSize, capacity) > 0) {
        throw Buffers.tooLarge(NAME, Long.toUnsignedString(contentSize), target);
      }
      int length;
      if (direct) {
        length =
            context.decompressDirectByteBuffer(
                target, target.position(), capacity, source, source.position(), inLength);
      } else {
        byte[] out = staging.output(target, capacity);
        length =
            context.decompressByteArray(
                out, staging.outputOffset(target), capacity, in, inOffset, inLength);
        staging.flush(target, length);
      }
      if (contentSize != CONTENT_SIZE_UNKNOWN && length != contentSize) {
        throw Buffers.malformed(
            NAME, "it declares " + contentSize + " bytes but decompresses to " + length);
      }
      source.position(source.limit());
      target.position(target.position() + length);
      return length;
    }
  }
}

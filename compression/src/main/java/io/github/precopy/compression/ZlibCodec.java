package io.github.precopy.compression;

import io.github.precopy.spi.FrameCodec;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * {@code zlib}: the JDK's {@link Deflater} and {@link Inflater} (the zlib format, RFC 1950), at
 * level {@code multifd-zlib-level}. A frame body is one complete zlib stream, nothing after it.
 */
final class ZlibCodec implements FrameCodec {

  static final String NAME = "zlib";

  @Override
  public String name() {
    return NAME;
  }

  /** zlib's {@code compressBound}: the stored-block worst case plus the 6-byte zlib wrapper. */
  @Override
  public int maxCompressedLength(int length) {
    return Buffers.bound(
        length, (long) length + (length >>> 12) + (length >>> 14) + (length >>> 25) + 13);
  }

  @Override
  public Compressor compressor(Map<String, String> options) {
    return new ZlibCompressor(CompressionParameters.zlibLevel(options));
  }

  @Override
  public Decompressor decompressor() {
    return new ZlibDecompressor();
  }

  /**
   * The native zlib stream is freed by a {@link java.lang.ref.Cleaner} when the compressor becomes
   * unreachable; {@code reset} reuses it for every frame.
   */
  private final class ZlibCompressor implements Compressor {
    private final Deflater deflater;

    ZlibCompressor(int level) {
      deflater = new Deflater(level);
    }

    @Override
    public int compress(ByteBuffer source, ByteBuffer target) {
      int needed = maxCompressedLength(source.remaining());
      if (target.remaining() < needed) {
        throw Buffers.targetTooSmall(NAME, needed, target);
      }
      int start = target.position();
      deflater.reset();
      deflater.setInput(source);
      deflater.finish();
      while (!deflater.finished()) {
        if (!target.hasRemaining()) {
          throw Buffers.targetTooSmall(NAME, target.position() - start + 1, target);
        }
        deflater.deflate(target);
      }
      deflater.setInput(Buffers.EMPTY); // drops the caller's buffer
      return target.position() - start;
    }
  }

  private static final class ZlibDecompressor implements Decompressor {
    private final Inflater inflater = new Inflater();

    /** Where a target that is full probes for output beyond it. */
    private final byte[] probe = new byte[1];

    @Override
    public int decompress(ByteBuffer source, ByteBuffer target) {
      int capacity = target.remaining();
      int start = target.position();
      inflater.reset();
      inflater.setInput(source);
      try {
        while (!inflater.finished()) {
          long read = inflater.getBytesRead();
          int written;
          if (target.hasRemaining()) {
            written = inflater.inflate(target);
          } else {
            written = inflater.inflate(probe);
            if (written > 0) {
              throw Buffers.malformed(
                  NAME,
                  "it decompresses to more than the " + capacity + " bytes left in the target");
            }
          }
          if (inflater.finished()) {
            break;
          }
          if (inflater.needsDictionary()) {
            throw Buffers.malformed(NAME, "it needs a preset dictionary");
          }
          if (inflater.needsInput()) {
            throw Buffers.malformed(NAME, "it is truncated");
          }
          if (written == 0 && inflater.getBytesRead() == read) {
            throw Buffers.malformed(NAME, "the inflater makes no progress");
          }
        }
      } catch (DataFormatException e) {
        throw Buffers.malformed(NAME, String.valueOf(e.getMessage()));
      } finally {
        inflater.setInput(Buffers.EMPTY); // drops the caller's buffer
      }
      if (source.hasRemaining()) {
        throw Buffers.malformed(
            NAME, source.remaining() + " bytes follow the end of the zlib stream");
      }
      return target.position() - start;
    }
  }
}

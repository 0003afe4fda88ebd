package io.github.precopy.core.testing;

import io.github.precopy.spi.FrameCodec;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PageCodec;
import io.github.precopy.spi.PageDecoder;
import io.github.precopy.spi.PageEncoder;
import io.github.precopy.spi.PrecopyPhase;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * Codecs for the engine's tests, registered in this module's test resources: capability {@code
 * test-delta}, a page codec that sends the bytes that changed since the copy the destination holds
 * as (be16 offset, byte) pairs, and the frame codec {@code test-deflate} (the JDK's Deflater, level
 * from {@code test-deflate-level}). Simple on purpose: they prove the engine's plumbing, not a
 * codec.
 */
public final class TestCodecsProvider implements MigrationOptimizationProvider {

  public static final String CAPABILITY = "test-delta";
  public static final String FRAME_CODEC = "test-deflate";

  static final int PAGE = 4096;
  static final int MAX_ENCODED = 3 * 512;

  @Override
  public String capability() {
    return CAPABILITY;
  }

  @Override
  public MigrationOptimization create(OptimizationContext context) {
    DeltaEncoder encoder = new DeltaEncoder();
    return new MigrationOptimization() {
      @Override
      public void onPhase(PrecopyPhase phase) {}

      @Override
      public PageEncoder pageEncoder() {
        return encoder;
      }

      @Override
      public Map<String, Object> statistics() {
        return Map.of(
            "encoded", encoder.encoded.get(),
            "unchanged", encoder.unchanged.get(),
            "declined", encoder.declined.get());
      }
    };
  }

  @Override
  public PageCodec pageCodec() {
    return new PageCodec() {
      @Override
      public int maxEncodedBytes() {
        return MAX_ENCODED;
      }

      @Override
      public PageDecoder decoder() {
        return TestCodecsProvider::decode;
      }
    };
  }

  @Override
  public List<FrameCodec> frameCodecs() {
    return List.of(new DeflateCodec());
  }

  /** Applies (be16 offset, byte) pairs; refuses anything else. */
  static void decode(ByteBuffer encoded, byte[] page, int offset) {
    if (encoded.remaining() == 0 || encoded.remaining() % 3 != 0) {
      throw new IllegalArgumentException("delta of " + encoded.remaining() + " bytes");
    }
    while (encoded.hasRemaining()) {
      int at = Short.toUnsignedInt(encoded.getShort());
      if (at >= PAGE) {
        throw new IllegalArgumentException("delta offset " + at + " past the page");
      }
      page[offset + at] = encoded.get();
    }
  }

  /** Keeps the copy the destination holds of each page it saw. Migration thread only. */
  static final class DeltaEncoder implements PageEncoder {
    private final Map<Long, byte[]> held = new HashMap<>();
    final AtomicLong encoded = new AtomicLong();
    final AtomicLong unchanged = new AtomicLong();
    final AtomicLong declined = new AtomicLong();

    @Override
    public int encode(int block, long page, byte[] data, int offset, ByteBuffer out) {
      long key = ((long) block << 40) | page;
      byte[] copy = held.get(key);
      if (copy == null) {
        held.put(key, Arrays.copyOfRange(data, offset, offset + PAGE));
        declined.incrementAndGet();
        return -1;
      }
      int start = out.position();
      for (int i = 0; i < PAGE; i++) {
        if (copy[i] != data[offset + i]) {
          if (out.position() - start + 3 > MAX_ENCODED) {
            out.position(start);
            System.arraycopy(data, offset, copy, 0, PAGE);
            declined.incrementAndGet();
            return -1;
          }
          out.putShort((short) i).put(data[offset + i]);
        }
      }
      System.arraycopy(data, offset, copy, 0, PAGE);
      int length = out.position() - start;
      (length == 0 ? unchanged : encoded).incrementAndGet();
      return length;
    }

    @Override
    public void zeroSent(int block, long page) {
      held.put(((long) block << 40) | page, new byte[PAGE]);
    }
  }

  /** The JDK's Deflater, one frame at a time. */
  static final class DeflateCodec implements FrameCodec {
    @Override
    public String name() {
      return FRAME_CODEC;
    }

    @Override
    public int maxCompressedLength(int length) {
      return length + length / 100 + 64;
    }

    @Override
    public Compressor compressor(Map<String, String> options) {
      int level = Integer.parseInt(options.getOrDefault("test-deflate-level", "1"));
      if (level < 0 || level > 9) {
        throw new IllegalArgumentException("test-deflate-level " + level + " not in [0, 9]");
      }
      Deflater deflater = new Deflater(level);
      return (source, target) -> {
        deflater.reset();
        deflater.setInput(source);
        deflater.finish();
        int before = target.position();
        while (!deflater.finished()) {
          deflater.deflate(target);
        }
        return target.position() - before;
      };
    }

    @Override
    public Decompressor decompressor() {
      Inflater inflater = new Inflater();
      return (source, target) -> {
        inflater.reset();
        inflater.setInput(source);
        int before = target.position();
        try {
          while (!inflater.finished()) {
            if (!target.hasRemaining() || inflater.needsInput() || inflater.needsDictionary()) {
              throw new IllegalArgumentException("deflate frame does not fit or is cut short");
            }
            inflater.inflate(target);
          }
        } catch (DataFormatException e) {
          throw new IllegalArgumentException("deflate frame: " + e.getMessage(), e);
        }
        if (inflater.getRemaining() > 0) {
          throw new IllegalArgumentException("bytes follow the deflate stream");
        }
        return target.position() - before;
      };
    }
  }
}

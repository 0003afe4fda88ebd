package io.github.precopy.spi;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * A compression of whole frames of a channel, such as QEMU's multifd compression ({@code zlib},
 * {@code zstd}, {@code lz4}), contributed by a plugin ({@link
 * MigrationOptimizationProvider#frameCodecs()}) and chosen per migration by the parameter {@code
 * multifd-compression}. The stream names it; a destination without it refuses the stream before
 * applying anything. Thread-safe; each channel has a compressor or decompressor of its own.
 */
public interface FrameCodec {

  /** The name {@code multifd-compression} selects it by, e.g. {@code zstd}. */
  String name();

  /** The most bytes {@link Compressor#compress} writes for {@code length} bytes of input. */
  int maxCompressedLength(int length);

  /**
   * A compressor for one channel, configured by the migration's options (e.g. {@code
   * multifd-zstd-level}).
   *
   * @throws IllegalArgumentException if an option of this codec is invalid
   */
  Compressor compressor(Map<String, String> options);

  /** A decompressor for one channel of a destination. */
  Decompressor decompressor();

  /** Compresses frames of one channel, on one thread. */
  interface Compressor {
    /**
     * Compresses {@code source}'s remaining bytes into {@code target} from its position (at least
     * {@link #maxCompressedLength} bytes remain there); both positions advance.
     *
     * @return the compressed length
     */
    int compress(ByteBuffer source, ByteBuffer target);
  }

  /**
   * Decompresses frames of one channel, on one thread. Its input comes from the network or a file:
   * it never writes past {@code target}'s limit and refuses malformed input with an exception.
   */
  interface Decompressor {
    /**
     * Decompresses {@code source}'s remaining bytes into {@code target} from its position; both
     * positions advance.
     *
     * @return the decompressed length
     * @throws IllegalArgumentException if the input is malformed or does not fit {@code target}
     */
    int decompress(ByteBuffer source, ByteBuffer target);
  }
}

package io.github.precopy.compression;

import io.github.precopy.spi.FrameCodec;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import java.util.List;
import java.util.Map;

/**
 * The {@code compression} capability: contributes QEMU's multifd compression methods as {@link
 * FrameCodec}s named {@code zstd}, {@code zlib} and {@code lz4}, which the engine applies to every
 * frame of every channel after its header. The parameter {@value #METHOD} names the codec, as in
 * QEMU, whether or not the capability is enabled ({@code none} sends frames as they are); enabling
 * {@code compression} without it compresses with {@code zstd}, the first of {@link #frameCodecs()}.
 *
 * <p>Parameters, among the migration's options, with QEMU's names, defaults and ranges: {@value
 * #METHOD} ({@code none}, {@code zlib}, {@code zstd} or {@code lz4}), {@value #ZLIB_LEVEL} (0 to 9,
 * default 1) and {@value #ZSTD_LEVEL} (0 to 20, default 1). {@code lz4} has no level. The
 * optimisation {@link #create} returns has no behaviour of its own: the engine compresses, and
 * reports the figures under {@code multifd-compression}.
 *
 * <p>Found by {@link java.util.ServiceLoader}; stateless and thread-safe, as are its codecs.
 */
public final class CompressionProvider implements MigrationOptimizationProvider {

  /** The capability name. */
  public static final String CAPABILITY = "compression";

  /**
   * The parameter that selects the codec: {@code none}, {@code zlib}, {@code zstd} or {@code lz4}.
   */
  public static final String METHOD = CompressionParameters.METHOD;

  /** The parameter that sets zlib's level, 0 (stored) to 9; default 1. */
  public static final String ZLIB_LEVEL = CompressionParameters.ZLIB_LEVEL;

  /** The parameter that sets zstd's level, 0 (zstd's default, 3) to 20; default 1. */
  public static final String ZSTD_LEVEL = CompressionParameters.ZSTD_LEVEL;

  private static final List<FrameCodec> CODECS =
      List.of(new ZstdCodec(), new ZlibCodec(), new Lz4Codec());

  /** For {@link java.util.ServiceLoader}. */
  public CompressionProvider() {}

  @Override
  public String capability() {
    return CAPABILITY;
  }

  /**
   * Checks {@value #METHOD} (when present) and the two levels among {@code options}.
   *
   * @throws IllegalArgumentException naming the parameter and its valid values
   */
  @Override
  public void validate(Map<String, String> options) {
    CompressionParameters.validate(options);
  }

  /** An optimisation without behaviour: compression happens through {@link #frameCodecs()}. */
  @Override
  public MigrationOptimization create(OptimizationContext context) {
    CompressionParameters.validate(context.options());
    return phase -> {};
  }

  /** {@code zstd} (the one enabling the capability selects), {@code zlib} and {@code lz4}. */
  @Override
  public List<FrameCodec> frameCodecs() {
    return CODECS;
  }
}
